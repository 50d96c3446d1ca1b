import { useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { ReactFlow, ReactFlowProvider, Background, Controls, Handle, Position, MarkerType, ConnectionMode, type Node, type NodeProps } from '@xyflow/react';
import { api, ApiError, type Nic, type NicPatch, type Topology, type Vm } from './api';
import type { LiveState } from './live';
import { aggregateState, impairText, linkState, stateColor } from './model';
import { faultMarks, nicFaults, type LinkFault } from './scenario';
import { StateBadge } from './Dashboard';
import { go, nodeHref } from './router';
import { edgeTypes, FitOnChange, useLayout, type RoutedEdge } from './flow';
import { flowPositions, flowRoute, flowToLayout } from './layout';

type LiveData = { label: string; sub: string; state?: string; kind: string; testid: string; faults?: string[]; href?: string };

/** How large a box is drawn (and so laid out): VMs one size (a line more per fault held), networks and routers as wide as their title. */
export function boxSize(kind: 'vm' | 'net' | 'router', lines: string[], faults = 0): { width: number; height: number } {
  const text = (min: number, max: number, px: number) => Math.min(max, Math.max(min, Math.ceil(Math.max(0, ...lines.map(l => l.length)) * px) + 30));
  if (kind === 'vm') return { width: 210, height: 76 + 22 * faults };
  if (kind === 'net') return { width: text(200, 380, 7.6), height: 50 };
  return { width: text(160, 340, 7.6), height: 40 };
}

function LiveNode({ data, selected }: NodeProps<Node<LiveData>>) {
  const color = data.state ? stateColor(data.state) : undefined;
  return (
    <div className={`dn boxed dn-${data.kind}${selected ? ' sel' : ''}`} data-testid={data.testid} data-state={data.state ?? ''}
         style={color ? { borderColor: color, background: color + '22' } : undefined}>
      <Handle type="source" position={data.kind === 'vm' ? Position.Top : Position.Bottom} id="h" isConnectable={false} />
      {data.kind === 'net' && <Handle type="source" position={Position.Top} id="t" isConnectable={false} />}
      <div className="title" title={data.label}>{data.label}</div>
      {data.sub && <div className="sub" title={data.sub}>{data.sub}</div>}
      {data.state && <StateBadge state={data.state} />}
      {data.faults?.map(f => <div key={f}><span className="badge fault-badge" data-testid={`${data.testid}-fault`}>{f}</span></div>)}
    </div>
  );
}
/** A node of the topology: a frame around its VMs, its title a link to the node's page. */
function LiveFrame({ data }: NodeProps<Node<LiveData>>) {
  return (
    <div className="frame" data-testid={data.testid} data-state={data.state ?? ''}>
      <div className="frame-title"><a className="nodrag" data-testid={`${data.testid}-link`} href={data.href}>{data.label}</a> {data.state && <StateBadge state={data.state} />}</div>
    </div>
  );
}
const nodeTypes = { live: LiveNode, group: LiveFrame };

type Menu = { x: number; y: number; vm: Vm; nic?: Nic };

export function LiveView({ name, live, refresh }: { name: string; live: LiveState; refresh: () => void }) {
  const topo = live.topologies.find(t => t.name === name);
  if (!name || !topo) {
    return (
      <div data-testid="live-view">
        <p>{name ? `No deployed topology '${name}'.` : 'Pick a deployed topology:'}</p>
        <ul>{live.topologies.map(t => <li key={t.name}><a data-testid={`live-pick-${t.name}`} href={`#/live/${encodeURIComponent(t.name)}`}>{t.name}</a> <StateBadge state={t.state} /></li>)}</ul>
      </div>
    );
  }
  return <LiveTopology name={name} topo={topo} live={live} refresh={refresh} />;
}

function LiveTopology({ name, topo, live, refresh }: { name: string; topo: Topology; live: LiveState; refresh: () => void }) {
  const [sel, setSel] = useState<{ vm: string; nic?: string } | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [imp, setImp] = useState({ delay: '50ms', loss: '', rate: '' });
  // node objects that did not change keep their identity between renders: React Flow then keeps their measured
  // handles, and the edges attached to them do not vanish while the live state refreshes (every event refreshes it)
  const stable = useRef(new Map<string, { key: string; node: Node<LiveData> }>());

  // the topology view names networks, routers and node VMs by their names in the file (vm) and VMs also by
  // their deployed names (name): deployed networks and routers are <topology>-<name>
  const deployed = (local: string) => `${name}-${local}`;
  const vmNames = new Set(topo.nodes.flatMap(n => n.vms.map(v => v.name)));
  const vms = live.vms.filter(v => vmNames.has(v.name));
  // what scenario runs hold on this topology now (from their journals, which the scenario.* events keep)
  const marks = faultMarks(live.runs.runs, topo);
  const short = (full: string) => full.startsWith(name + '-') ? full.slice(name.length + 1) : full;
  const netId = (n: string) => `net:${short(n)}`;

  // the boxes, each as large as it is drawn (the layout places exactly these sizes): frames (one per node) first,
  // since React Flow wants a parent before its children
  const nodes: Node<LiveData>[] = [];
  topo.nodes.forEach(node => {
    nodes.push({ id: `node:${node.name}`, type: 'group', position: { x: 0, y: 0 }, selectable: false, draggable: false,
      data: { kind: 'frame', label: `node ${node.name}`, sub: '', state: node.state, testid: `live-node-${node.name}`, href: nodeHref(name, node.name) } });
  });
  topo.networks.forEach(n => {
    const net = live.networks.find(x => x.name === deployed(n) || x.name === n);
    const label = `net ${net?.name ?? deployed(n)}`, sub = `${net?.subnet ?? ''}${net?.vlan ? ' · VLAN ' + net.vlan : ''}`;
    nodes.push({ id: netId(n), type: 'live', position: { x: 0, y: 0 }, ...boxSize('net', [label, sub]),
      data: { kind: 'net', label, sub, testid: `live-net-${n}` } });
  });
  topo.routers.forEach(r => {
    const label = `router ${deployed(r)}`;
    nodes.push({ id: `router:${r}`, type: 'live', position: { x: 0, y: 0 }, ...boxSize('router', [label]),
      data: { kind: 'router', label, sub: '', testid: `live-router-${r}` } });
  });
  topo.nodes.forEach(node => {
    node.vms.forEach(nv => {
      const vm = vms.find(v => v.name === nv.name);
      const faults = marks.vms[nv.name]?.map(m => `${m.label} (${m.fault.fault})`);
      nodes.push({ id: `vm:${nv.name}`, type: 'live', parentId: `node:${node.name}`, position: { x: 0, y: 0 }, selected: sel?.vm === nv.name && !sel.nic,
        ...boxSize('vm', [], faults?.length ?? 0),
        data: { kind: 'vm', label: `VM ${nv.vm}`, sub: `${nv.role ?? ''} · ${(vm?.nics ?? []).map(n => n.ip ?? '').join(' ')}`,
          state: vm?.state ?? nv.state, testid: `live-vm-${nv.name}`, faults } });
    });
  });
  const edges: RoutedEdge[] = [];
  const menuFor = (vm: Vm, nic: Nic) => (ev: ReactMouseEvent) => { ev.preventDefault(); ev.stopPropagation(); setMenu({ x: ev.clientX, y: ev.clientY, vm, nic }); };
  const routers = live.routers.filter(r => topo.routers.some(x => deployed(x) === r.name));
  for (const r of routers) {
    for (const p of r.networks) {
      const id = `port:${r.name}:${p.network}`;
      edges.push({ id, type: 'routed', source: `router:${short(r.name)}`, target: netId(p.network), sourceHandle: 'h', targetHandle: 't', className: 'link-up',
        data: { text: p.address, testid: `edge-label-${id}` } });
    }
  }
  for (const vm of vms) {
    for (const nic of vm.nics) {
      const ls = linkState(nic);
      // a fault a scenario holds wins over the NIC's own state: a cut or a partition red and dashed, an impairment orange
      const held = nicFaults(marks, vm.name, nic.name);
      const worst: LinkFault | null = held.find(f => f.kind !== 'impair')?.kind ?? held[0]?.kind ?? null;
      const red = ls === 'down' || worst === 'down' || worst === 'partition';
      const orange = !red && (ls === 'impaired' || worst === 'impair');
      const id = `nic:${vm.name}:${nic.name}`;
      edges.push({
        id, type: 'routed', source: `vm:${vm.name}`, target: netId(nic.network), sourceHandle: 'h', targetHandle: 'h',
        className: `link-${ls}${worst ? ` scenario-fault fault-${worst}` : ''}`,
        animated: orange, selected: sel?.vm === vm.name && sel.nic === nic.name,
        style: { stroke: red ? '#d33' : orange ? '#e07b00' : '#2e9d4f', strokeWidth: worst ? 3 : 2, strokeDasharray: red ? '6 4' : undefined },
        markerEnd: { type: MarkerType.Arrow },
        data: { text: `${nic.name} ${ls}${ls === 'impaired' ? ' ' + impairText(nic.impair) : ''}${held.length ? ' ⚡ ' + held.map(f => f.fault.fault).join(', ') : ''}`,
          testid: `edge-label-${id}`, onLabelClick: () => setSel({ vm: vm.name, nic: nic.name }), onLabelContextMenu: menuFor(vm, nic) },
      });
    }
  }
  // ELK lays the graph out (VMs in their node's frame, networks above, routers above them; NIC edges point up), again
  // when a box or a label changes; the view fits itself only when the boxes do (a link going down keeps the zoom)
  const flowEdges = edges.map(e => ({ id: e.id, source: e.source, target: e.target, label: e.data?.text, upward: e.id.startsWith('nic:') }));
  const layout = useLayout(flowToLayout(nodes, flowEdges));
  const laid = layout.layout;
  const at = laid ? flowPositions(nodes, laid) : {};
  const placed: Node<LiveData>[] = [];
  for (const n0 of nodes) {
    const p = at[n0.id];
    if (!p) continue; // new since the last layout: drawn once the next one is ready
    const n: Node<LiveData> = { ...n0, position: { x: p.x, y: p.y }, ...(p.width !== undefined ? { width: p.width, height: p.height } : {}) };
    const key = JSON.stringify([n.position, n.width, n.height, n.data, n.selected ?? false]);
    const before = stable.current.get(n.id);
    if (before && before.key === key) placed.push(before.node);
    else { stable.current.set(n.id, { key, node: n }); placed.push(n); }
  }
  const shown = new Set(placed.map(n => n.id));
  const routed = edges.map((e, i) => {
    const route = laid ? flowRoute(flowEdges[i], laid) : null;
    return route ? { ...e, data: { ...e.data!, points: route.points, labelBox: route.label } } : e;
  }).filter(e => shown.has(e.source) && shown.has(e.target));

  const act = async (f: () => Promise<unknown>) => {
    setErr(null); setMenu(null);
    try { await f(); } catch (e) { setErr(e instanceof ApiError ? e.text : String(e)); }
    refresh();
  };
  const impairBody = (): NicPatch => {
    const o: NonNullable<NicPatch['impair']> = {};
    if (imp.delay.trim()) o.delay = imp.delay.trim();
    if (imp.loss.trim()) o.loss = imp.loss.trim();
    if (imp.rate.trim()) o.rate = imp.rate.trim();
    return { impair: o };
  };
  const nicButtons = (vm: Vm, nic: Nic, prefix: string) => (
    <>
      <button data-testid={`${prefix}-down-${vm.name}-${nic.name}`} disabled={nic.link === 'down'} onClick={() => act(() => api.patchNic(vm.id, nic.name, { link: 'down' }))}>link down</button>
      <button data-testid={`${prefix}-up-${vm.name}-${nic.name}`} disabled={nic.link === 'up'} onClick={() => act(() => api.patchNic(vm.id, nic.name, { link: 'up' }))}>link up</button>
      <button data-testid={`${prefix}-impair-${vm.name}-${nic.name}`} onClick={() => act(() => api.patchNic(vm.id, nic.name, impairBody()))}>impair</button>
      <button data-testid={`${prefix}-clear-${vm.name}-${nic.name}`} disabled={!nic.impair} onClick={() => act(() => api.patchNic(vm.id, nic.name, { impair: null }))}>clear</button>
    </>
  );
  const vmButtons = (vm: Vm, prefix: string) => (
    <>
      <button data-testid={`${prefix}-reboot-${vm.name}`} onClick={() => act(() => api.vmAction(vm.id, 'reboot'))}>reboot</button>
      <button data-testid={`${prefix}-stop-${vm.name}`} onClick={() => act(() => api.vmAction(vm.id, 'stop'))}>stop</button>
      <button data-testid={`${prefix}-start-${vm.name}`} onClick={() => act(() => api.vmAction(vm.id, 'start'))}>start</button>
      <button data-testid={`${prefix}-detail-${vm.name}`} onClick={() => go('#/vm/' + encodeURIComponent(vm.id))}>details</button>
    </>
  );
  const selVm = sel ? vms.find(v => v.name === sel.vm) : undefined;
  const allStates = vms.map(v => v.state);

  return (
    <div className="live" data-testid="live-view" onClick={() => setMenu(null)}>
      <div className="toolbar">
        <b>{name}</b> <StateBadge state={topo.state} testid="live-topology-state" />
        <span className="muted">VMs: {aggregateState(allStates)} ({allStates.filter(s => s === 'RUNNING').length}/{allStates.length} running)</span>
        <span className="spacer" />
        impair: <input data-testid="impair-delay" size={6} placeholder="delay 50ms" value={imp.delay} onChange={e => setImp({ ...imp, delay: e.target.value })} />
        <input data-testid="impair-loss" size={5} placeholder="loss 2%" value={imp.loss} onChange={e => setImp({ ...imp, loss: e.target.value })} />
        <input data-testid="impair-rate" size={7} placeholder="rate 10mbit" value={imp.rate} onChange={e => setImp({ ...imp, rate: e.target.value })} />
      </div>
      {err && <pre className="error" data-testid="live-error">{err}</pre>}
      <div className="live-body">
        <div className="canvas" data-testid="live-canvas" data-layout={laid ? 'done' : layout.error ? 'failed' : 'pending'}>
          {layout.error && <pre className="error" data-testid="layout-error">layout: {layout.error}</pre>}
          <ReactFlowProvider>
            <ReactFlow nodes={placed} edges={routed} nodeTypes={nodeTypes} edgeTypes={edgeTypes} fitView fitViewOptions={{ maxZoom: 1 }} minZoom={0.2}
              nodesConnectable={false} nodesDraggable={false} connectionMode={ConnectionMode.Loose}
              onNodeClick={(_, n) => { if (n.id.startsWith('vm:')) setSel({ vm: n.id.slice(3) }); }}
              onEdgeClick={(_, e) => { const m = /^nic:(.+):([^:]+)$/.exec(e.id); if (m) setSel({ vm: m[1], nic: m[2] }); }}
              onNodeContextMenu={(ev, n) => { ev.preventDefault(); const vm = vms.find(v => `vm:${v.name}` === n.id); if (vm) setMenu({ x: ev.clientX, y: ev.clientY, vm }); }}
              onEdgeContextMenu={(ev, e) => {
                ev.preventDefault();
                const m = /^nic:(.+):([^:]+)$/.exec(e.id); const vm = m && vms.find(v => v.name === m[1]);
                if (vm) setMenu({ x: ev.clientX, y: ev.clientY, vm, nic: vm.nics.find(n => n.name === m![2]) });
              }}>
              <Background />
              <Controls showInteractive={false} />
              <FitOnChange token={laid ? Object.keys(laid.boxes).sort().join(' ') : null} />
            </ReactFlow>
          </ReactFlowProvider>
          {menu && (
            <div className="menu" data-testid="context-menu" style={{ left: Math.max(0, Math.min(menu.x, window.innerWidth - 220)), top: Math.max(0, Math.min(menu.y, window.innerHeight - 180)) }} onClick={e => e.stopPropagation()}>
              <div className="muted">{menu.vm.name}{menu.nic ? ` / ${menu.nic.name}` : ''}</div>
              {menu.nic ? nicButtons(menu.vm, menu.nic, 'menu') : vmButtons(menu.vm, 'menu')}
            </div>
          )}
        </div>
        <div className="side" data-testid="live-side">
          {selVm && (
            <div data-testid="live-selected">
              <h3>{selVm.name} <StateBadge state={selVm.state} /></h3>
              {selVm.error && <div className="error">{selVm.error}</div>}
              {vmButtons(selVm, 'sel')}
            </div>
          )}
          <h4>Links</h4>
          <table className="links">
            <tbody>
              {vms.flatMap(vm => vm.nics.map(nic => {
                const ls = linkState(nic);
                const held = nicFaults(marks, vm.name, nic.name);
                return (
                  <tr key={vm.name + nic.name} data-testid={`link-${vm.name}-${nic.name}`} data-link-state={ls}
                      data-fault={held.map(f => f.kind).join(' ') || undefined}
                      className={sel?.vm === vm.name && sel.nic === nic.name ? 'sel' : ''}>
                    <td>{short(vm.name)}/{nic.name}</td><td>{nic.network}</td><td>{nic.ip ?? '-'}</td>
                    <td className={`ls-${ls}`}>{ls}{ls === 'impaired' ? ` (${impairText(nic.impair)})` : ''}
                      {held.map((f, i) => <span key={i} className="fault-note" title={`scenario run ${f.fault.run}`}> ⚡{f.kind} ({f.fault.fault})</span>)}</td>
                    <td>{nicButtons(vm, nic, 'link')}</td>
                  </tr>
                );
              }))}
            </tbody>
          </table>
          <h4>VMs</h4>
          <table>
            <tbody>
              {vms.map(vm => (
                <tr key={vm.id} data-testid={`live-row-${vm.name}`} data-state={vm.state} data-fault={marks.vms[vm.name]?.map(m => m.fault.type).join(' ') || undefined}>
                  <td><a href={`#/vm/${encodeURIComponent(vm.id)}`}>{short(vm.name)}</a></td>
                  <td><StateBadge state={vm.state} />{marks.vms[vm.name]?.map((m, i) => <span key={i} className="badge fault-badge">{m.label}</span>)}</td>
                  <td>{vmButtons(vm, 'row')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
