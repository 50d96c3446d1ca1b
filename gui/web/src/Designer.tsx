import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import {
  ReactFlow, ReactFlowProvider, Background, Controls, Handle, Position, ConnectionMode, useReactFlow,
  type Connection, type Edge, type EdgeChange, type Node, type NodeChange, type NodeProps,
} from '@xyflow/react';
import { api, ApiError, type Report, type ServerEvent } from './api';
import { edgeTypes, FitOnChange, type RoutedEdge } from './flow';
import { flowToLayout, layoutGraph, type LayoutResult } from './layout';
import { applyLayout, designFlow, elementSize, frameOf, frames, keptPlaces } from './designLayout';
import type { LiveState } from './live';
import {
  canConnect, defaultProps, designToJson, designToTopology, designToYaml, emptyDesign, mapProblems, newId, nextIndex,
  nicEnds, nodeOf, groupAt, hasLayout, topologyToDesign, type Design, type DesignElement, type ElementKind, type Problem,
} from './model';
import { go } from './router';

const STORE_KEY = 'vmctl.designs';
const CURRENT_KEY = 'vmctl.design.current';

export function savedDesigns(): Record<string, Design> {
  try { return JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}'); } catch { return {}; }
}
function storeDesign(d: Design) {
  const all = savedDesigns();
  all[d.name] = d;
  localStorage.setItem(STORE_KEY, JSON.stringify(all));
}

type ElData = { el: DesignElement; problems: Problem[] };

function VmNode({ data, selected }: NodeProps<Node<ElData>>) {
  const { el, problems } = data;
  return (
    <div className={`dn boxed dn-vm${selected ? ' sel' : ''}${problems.length ? ' invalid' : ''}`} data-testid={`d-vm-${el.props.name}`}>
      <Handle type="source" position={Position.Top} id="h" data-testid={`handle-${el.props.name}`} />
      <div className="title">VM {el.props.name}</div>
      <div className="sub">{[el.props.role, el.props.image, el.props.memory].filter(x => x && x.trim()).join(' · ')}</div>
    </div>
  );
}
function NetNode({ data, selected }: NodeProps<Node<ElData>>) {
  const { el, problems } = data;
  return (
    <div className={`dn boxed dn-net${selected ? ' sel' : ''}${problems.length ? ' invalid' : ''}`} data-testid={`d-network-${el.props.name}`}>
      <Handle type="source" position={Position.Top} id="t" data-testid={`handle-${el.props.name}-top`} />
      <Handle type="source" position={Position.Bottom} id="b" data-testid={`handle-${el.props.name}`} />
      <div className="title">net {el.props.name}</div>
      <div className="sub">{el.props.subnet}{el.props.vlan ? ` · VLAN ${el.props.vlan}` : ''}</div>
    </div>
  );
}
function RouterNode({ data, selected }: NodeProps<Node<ElData>>) {
  const { el, problems } = data;
  return (
    <div className={`dn boxed dn-router${selected ? ' sel' : ''}${problems.length ? ' invalid' : ''}`} data-testid={`d-router-${el.props.name}`}>
      <Handle type="source" position={Position.Bottom} id="h" data-testid={`handle-${el.props.name}`} />
      <div className="title">router {el.props.name}</div>
    </div>
  );
}
function GroupNode({ data, selected }: NodeProps<Node<ElData>>) {
  const { el } = data;
  return (
    <div className={`dn-group${selected ? ' sel' : ''}`} data-testid={`d-node-${el.props.name}`} style={{ width: '100%', height: '100%' }}>
      <div className="title">node {el.props.name}</div>
    </div>
  );
}
function handleOf(design: Design, id: string, netHandle: string): string {
  return design.elements.find(x => x.id === id)?.kind === 'network' ? netHandle : 'h';
}
const nodeTypes = { vm: VmNode, network: NetNode, router: RouterNode, group: GroupNode };

const FIELDS: Record<ElementKind, Array<{ key: string; label: string; placeholder?: string }>> = {
  vm: [
    { key: 'name', label: 'name' }, { key: 'role', label: 'role' }, { key: 'image', label: 'image' },
    { key: 'cpus', label: 'cpus', placeholder: '1' }, { key: 'memory', label: 'memory', placeholder: '128M' },
    { key: 'node', label: 'node (group)', placeholder: 'from the node box it lies in' },
    { key: 'startBefore', label: 'startBefore', placeholder: 'vm names, comma separated' },
  ],
  network: [{ key: 'name', label: 'name' }, { key: 'subnet', label: 'subnet', placeholder: '198.18.1.0/24' }, { key: 'vlan', label: 'VLAN', placeholder: '1..4094' }],
  router: [{ key: 'name', label: 'name' }],
  group: [{ key: 'name', label: 'name' }, { key: 'w', label: 'width' }, { key: 'h', label: 'height' }],
};

function loadInitial(): Design {
  const cur = localStorage.getItem(CURRENT_KEY);
  if (cur) { try { return JSON.parse(cur) as Design; } catch { /* fall through */ } }
  return emptyDesign();
}

function DesignerInner({ live, refresh, onEvent }: { live: LiveState; refresh: () => void; onEvent: (l: (e: ServerEvent) => void) => () => void }) {
  const [design, setDesign] = useState<Design>(loadInitial);
  const [selected, setSelected] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [validation, setValidation] = useState<'pending' | 'valid' | 'invalid' | 'error'>('pending');
  const [busy, setBusy] = useState<string | null>(null);
  const [progress, setProgress] = useState<string[]>([]);
  const [report, setReport] = useState<Report | null>(null);
  const [opError, setOpError] = useState<string | null>(null);
  const [localPick, setLocalPick] = useState('');
  /** the last auto-layout: its routes, and where it put every element (a route is drawn while its ends stay there) */
  const [routes, setRoutes] = useState<{ result: LayoutResult; at: Record<string, { x: number; y: number }> } | null>(null);
  const [fitToken, setFitToken] = useState<string | null>(null);
  const [laying, setLaying] = useState(false);
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const conv = useMemo(() => designToTopology(design), [design]);

  useEffect(() => { localStorage.setItem(CURRENT_KEY, JSON.stringify(design)); }, [design]);

  // validation through the API's dry run (debounced)
  const validateNow = useCallback(async (d: Design) => {
    const c = designToTopology(d);
    try {
      await api.apply(`${d.name}.yaml`, JSON.stringify(c.doc), true);
      setProblems([]); setValidation('valid');
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) {
        setProblems(mapProblems(e.error + (e.detail && e.detail !== e.error ? '\n' + e.detail : ''), c.paths));
        setValidation('invalid');
      } else {
        setProblems([{ line: e instanceof ApiError ? e.text : String(e), path: null, target: null, field: null }]);
        setValidation('error');
      }
    }
  }, []);
  useEffect(() => {
    setValidation('pending');
    const t = setTimeout(() => { void validateNow(design); }, 400);
    return () => clearTimeout(t);
  }, [design, validateNow]);

  // progress of our topology
  useEffect(() => onEvent(e => {
    const mine = (e.type === 'topology.progress' && e.name === design.name)
      || (e.type === 'vm.state' && e.name?.startsWith(design.name + '-'));
    if (mine) setProgress(p => [...p.slice(-99), `${e.type === 'vm.state' ? `${e.name}: ${e.from ?? ''} → ${e.state}` : e.message ?? ''}`]);
  }), [onEvent, design.name]);

  const update = (f: (d: Design) => Design) => setDesign(d => f(structuredClone(d)));

  const addElement = (kind: ElementKind, x: number, y: number) => {
    const id = newId(kind);
    update(d => {
      const props = defaultProps(kind, nextIndex(d, kind));
      if (kind === 'vm') {
        const g = groupAt(d, x + 60, y + 20);
        props.node = g ? g.props.name : '';
      }
      d.elements.push({ id, kind, x, y, props });
      if (kind === 'group') d.elements.sort((a, b) => (a.kind === 'group' ? 0 : 1) - (b.kind === 'group' ? 0 : 1));
      return d;
    });
    setSelected(id);
  };

  const onDrop = (ev: DragEvent) => {
    ev.preventDefault();
    const kind = ev.dataTransfer.getData('application/vmctl') as ElementKind;
    if (!kind) return;
    const p = flow.screenToFlowPosition({ x: ev.clientX, y: ev.clientY });
    addElement(kind, Math.round(p.x - 60), Math.round(p.y - 20));
  };

  // node boxes first (React Flow wants a parent before its children), each as large as it must be to hold its VMs;
  // a VM in a node box is its child (moving the box moves its VMs), placed relative to it
  const frameRects = frames(design);
  const nodes: Node<ElData>[] = [
    ...design.elements.filter(el => el.kind === 'group'),
    ...design.elements.filter(el => el.kind !== 'group'),
  ].map(el => {
    const parent = el.kind === 'vm' ? frameOf(design, el) : undefined;
    const f = el.kind === 'group' ? frameRects[el.id] : undefined;
    const pf = parent ? frameRects[parent.id] : undefined;
    const size = f ? { width: f.width, height: f.height } : elementSize(el);
    return {
      id: el.id, type: el.kind, selected: selected === el.id, ...size,
      position: f ? { x: f.x, y: f.y } : pf ? { x: el.x - pf.x, y: el.y - pf.y } : { x: el.x, y: el.y },
      ...(parent ? { parentId: parent.id } : {}),
      zIndex: el.kind === 'group' ? -1 : 1,
      data: { el, problems: problems.filter(p => p.target === el.id) },
    };
  });
  // after an auto-layout, an edge follows the route ELK found while both its ends stay where ELK put them
  const edges: RoutedEdge[] = design.edges.map(e => {
    const n = nicEnds(design, e);
    const bad = problems.some(p => p.target === e.id);
    const route = routes && routes.result.edges[e.id] && [e.source, e.target].every(id => {
      const el = design.elements.find(x => x.id === id);
      const at = routes.at[id];
      return el && at && at.x === el.x && at.y === el.y;
    }) ? routes.result.edges[e.id] : null;
    return {
      // VMs hang below networks (network handle b), routers sit above them (network handle t)
      id: e.id, type: 'routed', source: e.source, target: e.target, selected: selected === e.id,
      sourceHandle: handleOf(design, e.source, n ? 'b' : 't'), targetHandle: handleOf(design, e.target, n ? 'b' : 't'),
      className: bad ? 'invalid' : '',
      data: { text: n ? (e.ip ? e.ip : 'auto') : 'port', points: route?.points, labelBox: route?.label, testid: `d-edge-label-${e.id}`, onLabelClick: () => setSelected(e.id) },
    };
  });

  const onNodesChange = (changes: NodeChange<Node<ElData>>[]) => {
    for (const c of changes) {
      if (c.type === 'position' && c.position) {
        const { x, y } = c.position;
        update(d => {
          const el = d.elements.find(e => e.id === c.id);
          if (!el) return d;
          const fr = frames(d);
          if (el.kind === 'group') {
            // React Flow moves the drawn box: move the node box and its VMs by as much
            const f = fr[el.id];
            const dx = Math.round(x - f.x), dy = Math.round(y - f.y);
            for (const m of d.elements) {
              if (m.id === el.id || (m.kind === 'vm' && frameOf(d, m)?.id === el.id)) { m.x += dx; m.y += dy; }
            }
          } else {
            const parent = el.kind === 'vm' ? frameOf(d, el) : undefined;
            const pf = parent ? fr[parent.id] : undefined;
            el.x = Math.round(x + (pf?.x ?? 0)); el.y = Math.round(y + (pf?.y ?? 0));
          }
          return d;
        });
      } else if (c.type === 'select' && c.selected) {
        setSelected(c.id);
      } else if (c.type === 'remove') {
        removeIds([c.id]);
      }
    }
  };
  const onNodeDragStop = (_: unknown, node: Node) => {
    // a VM dropped into a node box joins that node
    update(d => {
      const el = d.elements.find(e => e.id === node.id);
      if (el && el.kind === 'vm') { const g = groupAt(d, el.x + 60, el.y + 20); if (g) el.props.node = g.props.name; }
      return d;
    });
  };
  const onEdgesChange = (changes: EdgeChange[]) => {
    for (const c of changes) {
      if (c.type === 'select' && c.selected) setSelected(c.id);
      else if (c.type === 'remove') removeIds([c.id]);
    }
  };
  const onConnect = (c: Connection) => {
    if (!c.source || !c.target) return;
    if (!canConnect(design, c.source, c.target)) return;
    const id = newId('edge');
    update(d => { d.edges.push({ id, source: c.source!, target: c.target! }); return d; });
    setSelected(id);
  };
  const removeIds = (ids: string[]) => {
    update(d => {
      d.elements = d.elements.filter(e => !ids.includes(e.id));
      d.edges = d.edges.filter(e => !ids.includes(e.id) && !ids.includes(e.source) && !ids.includes(e.target));
      return d;
    });
    setSelected(null);
  };

  const selEl = design.elements.find(e => e.id === selected);
  const selEdge = design.edges.find(e => e.id === selected);
  const fieldErrors = (target: string, field: string) => problems.filter(p => p.target === target && p.field === field);

  const download = (text: string, name: string, type: string) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type }));
    a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
  };

  const deploy = async () => {
    setBusy('deploying'); setOpError(null); setReport(null); setProgress([]);
    storeDesign(design);
    try {
      const r = await api.apply(`${design.name}.yaml`, JSON.stringify(conv.doc), false);
      setReport(r);
    } catch (e) {
      setOpError(e instanceof ApiError ? e.text : String(e));
      if (e instanceof ApiError && e.status === 400) setProblems(mapProblems(e.error, conv.paths));
    } finally { setBusy(null); refresh(); }
  };
  const destroy = async () => {
    setBusy('destroying'); setOpError(null); setReport(null); setProgress([]);
    try { setReport(await api.destroy(design.name)); } catch (e) { setOpError(e instanceof ApiError ? e.text : String(e)); }
    finally { setBusy(null); refresh(); }
  };
  /** Lays the design out with ELK: VMs in their node boxes, none on another, labels apart; then shows all of it. */
  const autoLayout = async (d: Design) => {
    setLaying(true);
    try {
      const { nodes: fn, edges: fe } = designFlow(d);
      const result = await layoutGraph(flowToLayout(fn, fe));
      const next = applyLayout(d, result);
      setDesign(next);
      setRoutes({ result, at: Object.fromEntries(next.elements.map(e => [e.id, { x: e.x, y: e.y }])) });
      setFitToken(`layout-${Date.now()}`);
    } catch (e) {
      setOpError(`auto-layout: ${(e as Error).message ?? e}`);
      setDesign(d);
    } finally { setLaying(false); }
  };
  /** A design read from a topology file: its own layout if it carries one, else where a kept design had it, else ELK's. */
  const openText = async (text: string, what: string) => {
    let d: Design;
    try { d = topologyToDesign(text); } catch (e) { setOpError(`cannot read ${what}: ${(e as Error).message}`); return; }
    setSelected(null); setOpError(null); setReport(null); setRoutes(null);
    if (hasLayout(text)) { setDesign(d); setFitToken(`open-${Date.now()}`); return; }
    const kept = keptPlaces(d, savedDesigns()[d.name]);
    if (kept) { setDesign(kept); setFitToken(`open-${Date.now()}`); return; }
    await autoLayout(d);
  };
  const loadFile = async (f: File) => openText(await f.text(), f.name);
  const openDeployed = async (name: string) => {
    setOpError(null);
    try {
      const t = await api.topology(name);
      if (!t.spec) { setOpError(`topology ${name}: the server has no spec for it`); return; }
      await openText(t.spec, `topology ${name}`);
    } catch (e) { setOpError(e instanceof ApiError ? e.text : String(e)); }
  };
  const deployed = live.topologies.find(t => t.name === design.name);
  const saved = savedDesigns();

  return (
    <div className="designer" data-testid="designer">
      <div className="toolbar">
        <label>topology <input data-testid="design-name" value={design.name}
          onChange={e => { const v = e.target.value; update(d => { d.name = v; return d; }); }} /></label>
        <button data-testid="btn-new" onClick={() => { setDesign(emptyDesign()); setSelected(null); setReport(null); }}>new</button>
        <button data-testid="btn-validate" onClick={() => validateNow(design)}>validate</button>
        <span data-testid="validation-status" data-status={validation} className={validation === 'valid' ? 'ok' : validation === 'pending' ? '' : 'bad'}>
          {validation === 'valid' ? '✓ valid' : validation === 'pending' ? '…' : `${problems.length} problem(s)`}
        </span>
        <button data-testid="btn-save-yaml" onClick={() => { storeDesign(design); download(designToYaml(design), `${design.name}.yaml`, 'application/yaml'); }}>save YAML</button>
        <button data-testid="btn-save-json" onClick={() => download(designToJson(design), `${design.name}.json`, 'application/json')}>save JSON</button>
        <button data-testid="btn-save-local" onClick={() => storeDesign(design)}>keep in browser</button>
        <select data-testid="select-load-local" value={localPick} onChange={e => {
          const d = saved[e.target.value]; setLocalPick('');
          if (d) { setDesign(structuredClone(d)); setSelected(null); }
        }}>
          <option value="">load kept design…</option>
          {Object.keys(saved).map(k => <option key={k} value={k}>{k}</option>)}
        </select>
        <select data-testid="select-open-deployed" value="" onChange={e => { const v = e.target.value; if (v) void openDeployed(v); }}>
          <option value="">open deployed topology…</option>
          {live.topologies.map(t => <option key={t.name} value={t.name}>{t.name}</option>)}
        </select>
        <button data-testid="btn-auto-layout" disabled={laying || design.elements.length === 0} onClick={() => void autoLayout(design)}>{laying ? 'laying out…' : 'auto-layout'}</button>
        <label className="file">load file <input data-testid="input-load-file" type="file" accept=".yaml,.yml,.json"
          onChange={e => { const f = e.target.files?.[0]; if (f) void loadFile(f); e.target.value = ''; }} /></label>
        <span className="spacer" />
        <button data-testid="btn-deploy" disabled={!!busy} onClick={deploy}>{busy === 'deploying' ? 'deploying…' : 'deploy'}</button>
        <button data-testid="btn-destroy" disabled={!!busy || !deployed} onClick={destroy}>{busy === 'destroying' ? 'destroying…' : 'destroy'}</button>
        <button data-testid="btn-open-live" disabled={!deployed} onClick={() => go('#/live/' + encodeURIComponent(design.name))}>live view</button>
      </div>
      <div className="designer-body">
        <div className="palette" data-testid="palette">
          {(['vm', 'network', 'router', 'group'] as ElementKind[]).map(k => (
            <div key={k} className={`pal pal-${k}`} draggable data-testid={`palette-${k === 'group' ? 'node' : k}`}
                 onDragStart={e => { e.dataTransfer.setData('application/vmctl', k); e.dataTransfer.effectAllowed = 'move'; }}
                 onDoubleClick={() => addElement(k, 40 + design.elements.length * 30, 40 + design.elements.length * 30)}>
              {k === 'vm' ? 'VM' : k === 'network' ? 'network (segment)' : k === 'router' ? 'router' : 'node (group of VMs)'}
            </div>
          ))}
          <p className="hint">Drag onto the canvas. Draw an edge from a VM to a network to add a NIC, from a router to a network for a port. Drop VMs into a node box to group them. Del removes the selection.</p>
        </div>
        <div className="canvas" ref={wrapper} data-testid="designer-canvas" data-layout={laying ? 'pending' : routes ? 'done' : 'none'} onDragOver={e => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }} onDrop={onDrop}>
          <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes} connectionMode={ConnectionMode.Loose}
            onNodesChange={onNodesChange} onEdgesChange={onEdgesChange} onConnect={onConnect} onNodeDragStop={onNodeDragStop}
            onPaneClick={() => setSelected(null)} isValidConnection={c => canConnect(design, c.source!, c.target!)}
            deleteKeyCode={['Delete']} fitView={design.elements.length > 0} fitViewOptions={{ maxZoom: 1 }} minZoom={0.2}>
            <Background />
            <Controls />
            <FitOnChange token={fitToken} />
          </ReactFlow>
        </div>
        <div className="side" data-testid="side-panel">
          {selEl && (
            <div data-testid="props-panel" data-kind={selEl.kind}>
              <h3>{selEl.kind === 'group' ? 'node' : selEl.kind} {selEl.props.name}</h3>
              {FIELDS[selEl.kind].map(f => (
                <div className="field" key={f.key}>
                  <label>{f.label}
                    <input data-testid={`prop-${f.key}`} value={selEl.props[f.key] ?? ''} placeholder={f.placeholder}
                      onChange={e => { const v = e.target.value; update(d => { const el = d.elements.find(x => x.id === selEl.id)!; el.props[f.key] = v; return d; }); }} />
                  </label>
                  {fieldErrors(selEl.id, f.key === 'node' ? 'node' : f.key).map((p, i) => <div key={i} className="field-error" data-testid={`err-${f.key}`}>{p.line}</div>)}
                </div>
              ))}
              {selEl.kind === 'vm' && <div className="muted">node: {nodeOf(design, selEl)}</div>}
              {selEl.kind === 'vm' && (
                <div>
                  <h4>NICs</h4>
                  {design.edges.filter(e => nicEnds(design, e)?.vm.id === selEl.id).map((e, k) => (
                    <div className="field" key={e.id}>
                      <label>eth{k} → {nicEnds(design, e)!.net.props.name} ip
                        <input data-testid={`prop-nic-ip-${k}`} value={e.ip ?? ''} placeholder="allocated"
                          onChange={ev => { const v = ev.target.value; update(d => { d.edges.find(x => x.id === e.id)!.ip = v; return d; }); }} />
                      </label>
                      {fieldErrors(e.id, 'ip').map((p, i) => <div key={i} className="field-error" data-testid={`err-nic-ip-${k}`}>{p.line}</div>)}
                    </div>
                  ))}
                </div>
              )}
              {problems.filter(p => p.target === selEl.id && !FIELDS[selEl.kind].some(f => f.key === p.field)).map((p, i) =>
                <div key={i} className="field-error" data-testid="err-other">{p.line}</div>)}
              <button data-testid="delete-selected" onClick={() => removeIds([selEl.id])}>delete</button>
            </div>
          )}
          {selEdge && (
            <div data-testid="props-panel" data-kind="edge">
              <h3>{nicEnds(design, selEdge) ? 'NIC' : 'router port'}</h3>
              {nicEnds(design, selEdge) && (
                <div className="field">
                  <label>IP <input data-testid="prop-ip" value={selEdge.ip ?? ''} placeholder="allocated"
                    onChange={e => { const v = e.target.value; update(d => { d.edges.find(x => x.id === selEdge.id)!.ip = v; return d; }); }} /></label>
                  {fieldErrors(selEdge.id, 'ip').map((p, i) => <div key={i} className="field-error" data-testid="err-ip">{p.line}</div>)}
                </div>
              )}
              <button data-testid="delete-selected" onClick={() => removeIds([selEdge.id])}>delete</button>
            </div>
          )}
          {!selEl && !selEdge && <p className="muted">Select an element to edit its properties.</p>}
          {problems.length > 0 && (
            <div data-testid="problems">
              <h4>Problems (from the API)</h4>
              {problems.map((p, i) => (
                <div key={i} className="field-error problem" data-testid="problem" onClick={() => p.target && setSelected(p.target)}>{p.line}</div>
              ))}
            </div>
          )}
          {(busy || progress.length > 0 || report || opError) && (
            <div data-testid="deploy-progress">
              <h4>{busy ?? 'last operation'}</h4>
              {opError && <pre className="error" data-testid="op-error">{opError}</pre>}
              <ul className="progress">{progress.map((m, i) => <li key={i}>{m}</li>)}</ul>
              {report && (
                <div data-testid="deploy-report" data-ok={String(report.ok)}>
                  <b className={report.ok ? 'ok' : 'bad'}>{report.ok ? 'ok' : 'failed'}</b>: {report.summary} ({report.durationMs} ms)
                  <ul>{report.steps.map((s, i) => <li key={i} className={s.status === 'failed' ? 'error' : ''}>{s.status} · {s.description}{s.error ? ` — ${s.error}` : ''}</li>)}</ul>
                </div>
              )}
            </div>
          )}
          {deployed && <div className="muted" data-testid="deployed-state">deployed: {deployed.state}</div>}
          <details><summary>YAML</summary><pre data-testid="yaml-preview">{designToYaml(design)}</pre></details>
        </div>
      </div>
    </div>
  );
}

export function Designer(props: { live: LiveState; refresh: () => void; onEvent: (l: (e: ServerEvent) => void) => () => void }) {
  return <ReactFlowProvider><DesignerInner {...props} /></ReactFlowProvider>;
}
