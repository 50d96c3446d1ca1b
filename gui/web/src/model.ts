// Pure logic of the GUI: the designer's model, its conversion to and from the topology file format
// (the same YAML/JSON as `vmctl up -f`), the API's validation messages, and state aggregation.
import YAML from 'yaml';
import type { Topology, VmState } from './api';

export type ElementKind = 'vm' | 'network' | 'router' | 'group';

export interface DesignElement {
  id: string;
  kind: ElementKind;
  x: number;
  y: number;
  /** form values, kept as typed (strings) so that the API reports wrong ones verbatim */
  props: Record<string, string>;
}

/** An edge of the design: VM–network (a NIC, in order of creation) or router–network (a router port). */
export interface DesignEdge {
  id: string;
  source: string;
  target: string;
  ip?: string;
}

export interface Design {
  name: string;
  elements: DesignElement[];
  edges: DesignEdge[];
}

export const DEFAULT_NODE = 'main';

export function emptyDesign(name = 'lab'): Design {
  return { name, elements: [], edges: [] };
}

export function defaultProps(kind: ElementKind, n: number): Record<string, string> {
  switch (kind) {
    case 'vm': return { name: `vm${n}`, role: 'host', image: 'tiny', cpus: '1', memory: '128M', node: '' };
    case 'network': return { name: `net${n}`, subnet: `198.18.${n}.0/24`, vlan: '' };
    case 'router': return { name: `router${n}` };
    case 'group': return { name: `node${n}`, w: '320', h: '220' };
  }
}

let idCounter = 0;
export function newId(kind: string): string {
  idCounter += 1;
  return `${kind}-${Date.now().toString(36)}-${idCounter}`;
}

/** Next free index n for default names of a kind (vm1, vm2 …). */
export function nextIndex(design: Design, kind: ElementKind): number {
  const prefix = defaultProps(kind, 0).name.replace(/0$/, '');
  const used = new Set(design.elements.filter(e => e.kind === kind).map(e => e.props.name));
  let n = 1;
  while (used.has(prefix + n)) n++;
  return n;
}

export function byId(design: Design): Map<string, DesignElement> {
  return new Map(design.elements.map(e => [e.id, e]));
}

/** The VM and the network of an edge, whatever the direction it was drawn in; null if it is not a NIC. */
export function nicEnds(design: Design, edge: DesignEdge): { vm: DesignElement; net: DesignElement } | null {
  const m = byId(design);
  const a = m.get(edge.source), b = m.get(edge.target);
  if (!a || !b) return null;
  if (a.kind === 'vm' && b.kind === 'network') return { vm: a, net: b };
  if (b.kind === 'vm' && a.kind === 'network') return { vm: b, net: a };
  return null;
}

export function routerEnds(design: Design, edge: DesignEdge): { router: DesignElement; net: DesignElement } | null {
  const m = byId(design);
  const a = m.get(edge.source), b = m.get(edge.target);
  if (!a || !b) return null;
  if (a.kind === 'router' && b.kind === 'network') return { router: a, net: b };
  if (b.kind === 'router' && a.kind === 'network') return { router: b, net: a };
  return null;
}

/** Only VM–network and router–network edges are allowed, once per pair for routers. */
export function canConnect(design: Design, source: string, target: string): boolean {
  const m = byId(design);
  const a = m.get(source), b = m.get(target);
  if (!a || !b || a.id === b.id) return false;
  const kinds = [a.kind, b.kind].sort().join('-');
  if (kinds === 'network-vm') {
    const vm = a.kind === 'vm' ? a : b;
    return design.edges.filter(e => e.source === vm.id || e.target === vm.id).length < 8;
  }
  if (kinds === 'network-router') {
    return !design.edges.some(e => (e.source === source && e.target === target) || (e.source === target && e.target === source));
  }
  return false;
}

/** The node (group) a VM belongs to: its `node` property, else the group box it lies in, else DEFAULT_NODE. */
export function nodeOf(design: Design, vm: DesignElement): string {
  if (vm.props.node && vm.props.node.trim()) return vm.props.node.trim();
  const g = groupAt(design, vm.x + 60, vm.y + 20);
  return g ? g.props.name : DEFAULT_NODE;
}

export function groupAt(design: Design, x: number, y: number): DesignElement | undefined {
  return design.elements.find(g => g.kind === 'group'
    && x >= g.x && y >= g.y && x <= g.x + num(g.props.w, 320) && y <= g.y + num(g.props.h, 220));
}

function num(s: string | undefined, dflt: number): number {
  const n = Number(s);
  return Number.isFinite(n) && s !== undefined && s.trim() !== '' ? n : dflt;
}

/** A number if the text is an integer, else the text itself (so the API names the bad value). */
function intOrText(s: string): number | string {
  return /^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s;
}

export interface TopologyDoc {
  apiVersion: string;
  kind: string;
  name: string;
  networks?: Array<{ name: string; subnet: string; vlan?: number | string }>;
  routers?: Array<{ name: string; networks: string[] }>;
  nodes: Array<{ name: string; vms: Array<Record<string, unknown>> }>;
}

export interface Conversion {
  doc: TopologyDoc;
  /** path prefix in the document ("nodes[0].vms[1]", "networks[0]", "nodes[0].vms[1].nics[0]") → design element or edge id */
  paths: Record<string, string>;
}

/** Design → topology document (the format of `vmctl up -f`), with the map from document paths to design ids. */
export function designToTopology(design: Design): Conversion {
  const paths: Record<string, string> = {};
  const doc: TopologyDoc = { apiVersion: 'vmctl/v1', kind: 'Topology', name: design.name, nodes: [] };
  const nets = design.elements.filter(e => e.kind === 'network');
  if (nets.length) {
    doc.networks = nets.map((n, i) => {
      paths[`networks[${i}]`] = n.id;
      const out: { name: string; subnet: string; vlan?: number | string } = { name: n.props.name, subnet: n.props.subnet ?? '' };
      if (n.props.vlan && n.props.vlan.trim()) out.vlan = intOrText(n.props.vlan);
      return out;
    });
  }
  const routers = design.elements.filter(e => e.kind === 'router');
  if (routers.length) {
    doc.routers = routers.map((r, i) => {
      paths[`routers[${i}]`] = r.id;
      const networks = design.edges.map(e => routerEnds(design, e)).filter(x => x && x.router.id === r.id).map(x => x!.net.props.name);
      return { name: r.props.name, networks };
    });
  }
  const groupOrder = design.elements.filter(e => e.kind === 'group').map(g => g.props.name);
  const byNode = new Map<string, DesignElement[]>();
  for (const vm of design.elements.filter(e => e.kind === 'vm')) {
    const node = nodeOf(design, vm);
    if (!byNode.has(node)) byNode.set(node, []);
    byNode.get(node)!.push(vm);
  }
  const nodeNames = [...groupOrder.filter(g => byNode.has(g)), ...[...byNode.keys()].filter(k => !groupOrder.includes(k))];
  doc.nodes = nodeNames.map((node, ni) => {
    const gid = design.elements.find(g => g.kind === 'group' && g.props.name === node)?.id;
    if (gid) paths[`nodes[${ni}]`] = gid;
    return {
      name: node,
      vms: byNode.get(node)!.map((vm, vi) => {
        paths[`nodes[${ni}].vms[${vi}]`] = vm.id;
        if (!gid && vi === 0) paths[`nodes[${ni}]`] = vm.id;
        // role is optional (the file's VM name stands for it): an empty one is left out, not sent as '' (no valid role)
        const out: Record<string, unknown> = { name: vm.props.name, ...(vm.props.role?.trim() ? { role: vm.props.role } : {}), image: vm.props.image ?? '' };
        if (vm.props.cpus && vm.props.cpus.trim()) out.cpus = intOrText(vm.props.cpus);
        if (vm.props.memory && vm.props.memory.trim()) out.memory = vm.props.memory.trim();
        const nics = design.edges.filter(e => { const n = nicEnds(design, e); return n && n.vm.id === vm.id; });
        if (nics.length) {
          out.nics = nics.map((e, k) => {
            paths[`nodes[${ni}].vms[${vi}].nics[${k}]`] = e.id;
            const net = nicEnds(design, e)!.net.props.name;
            return e.ip && e.ip.trim() ? { network: net, ip: e.ip.trim() } : net;
          });
        }
        if (vm.props.startBefore && vm.props.startBefore.trim()) {
          out.startBefore = vm.props.startBefore.split(/[\s,]+/).filter(Boolean);
        }
        return out;
      }),
    };
  });
  return { doc, paths };
}

const LAYOUT_MARK = '# vmctl-gui-layout: ';

/** The topology as YAML, with the designer's layout in a comment (vmctl ignores comments). */
export function designToYaml(design: Design): string {
  const { doc } = designToTopology(design);
  const layout: Record<string, [number, number]> = {};
  for (const e of design.elements) layout[`${e.kind}:${e.props.name}`] = [Math.round(e.x), Math.round(e.y)];
  const groups = design.elements.filter(e => e.kind === 'group').map(g => ({ name: g.props.name, w: g.props.w, h: g.props.h }));
  const header = LAYOUT_MARK + JSON.stringify({ layout, groups }) + '\n';
  return header + YAML.stringify(doc, { lineWidth: 0, flowCollectionPadding: false });
}

export function designToJson(design: Design): string {
  return JSON.stringify(designToTopology(design).doc, null, 2) + '\n';
}

/** Whether a topology file's text carries the designer's layout comment. */
export function hasLayout(text: string): boolean {
  return text.split('\n').some(l => l.startsWith(LAYOUT_MARK));
}

/** Parse a topology file (YAML or JSON) into a design, laid out automatically unless the file carries a layout. */
export function topologyToDesign(text: string): Design {
  const doc = YAML.parse(text) as TopologyDoc;
  if (!doc || typeof doc !== 'object') throw new Error('not a topology document');
  let layout: Record<string, [number, number]> = {};
  let groupsMeta: Array<{ name: string; w?: string; h?: string }> = [];
  const mark = text.split('\n').find(l => l.startsWith(LAYOUT_MARK));
  if (mark) {
    try {
      const meta = JSON.parse(mark.slice(LAYOUT_MARK.length));
      layout = meta.layout ?? {};
      groupsMeta = meta.groups ?? [];
    } catch { /* ignore a broken layout comment */ }
  }
  const design: Design = { name: String(doc.name ?? 'topology'), elements: [], edges: [] };
  const netIds = new Map<string, string>();
  const pos = (kind: ElementKind, name: string, x: number, y: number) => layout[`${kind}:${name}`] ?? [x, y];
  (doc.networks ?? []).forEach((n, i) => {
    const id = newId('network');
    netIds.set(n.name, id);
    const [x, y] = pos('network', n.name, 40 + i * 260, 40);
    design.elements.push({ id, kind: 'network', x, y, props: { name: n.name, subnet: String(n.subnet ?? ''), vlan: n.vlan === undefined ? '' : String(n.vlan) } });
  });
  (doc.routers ?? []).forEach((r, i) => {
    const id = newId('router');
    const [x, y] = pos('router', r.name, 160 + i * 260, -80);
    design.elements.push({ id, kind: 'router', x, y, props: { name: r.name } });
    for (const net of r.networks ?? []) {
      const nid = netIds.get(net);
      if (nid) design.edges.push({ id: newId('edge'), source: id, target: nid });
    }
  });
  let vmIndex = 0;
  (doc.nodes ?? []).forEach((node, ni) => {
    const meta = groupsMeta.find(g => g.name === node.name);
    const [gx, gy] = pos('group', node.name, 20 + ni * 360, 180);
    const vms = node.vms ?? [];
    const multi = (doc.nodes ?? []).length > 1 || meta !== undefined;
    if (multi) {
      design.elements.push({ id: newId('group'), kind: 'group', x: gx, y: gy,
        props: { name: node.name, w: meta?.w ?? '320', h: meta?.h ?? String(Math.max(220, 60 + vms.length * 90)) } });
    }
    vms.forEach((vm, vi) => {
      const id = newId('vm');
      const name = String(vm.name ?? '');
      const [x, y] = pos('vm', name, multi ? gx + 20 : 40 + vmIndex * 200, multi ? gy + 40 + vi * 90 : 220);
      vmIndex++;
      design.elements.push({ id, kind: 'vm', x, y, props: {
        name, role: String(vm.role ?? ''), image: String(vm.image ?? ''),
        cpus: vm.cpus === undefined ? '' : String(vm.cpus), memory: vm.memory === undefined ? '' : String(vm.memory),
        node: node.name,
        ...(Array.isArray(vm.startBefore) && vm.startBefore.length ? { startBefore: (vm.startBefore as string[]).join(', ') } : {}),
      } });
      for (const nic of (vm.nics as Array<string | { network: string; ip?: string }> | undefined) ?? []) {
        const net = typeof nic === 'string' ? nic : nic.network;
        const nid = netIds.get(net);
        if (nid) design.edges.push({ id: newId('edge'), source: id, target: nid, ip: typeof nic === 'string' ? undefined : nic.ip });
      }
    });
  });
  return design;
}

/** One validation problem of the API: "FILE:LINE:COL: PATH: MESSAGE". */
export interface Problem {
  line: string;
  path: string | null;
  /** design element or edge id the path points at, if any */
  target: string | null;
  /** the field name of that element ("memory", "subnet", "ip" …), if any */
  field: string | null;
}

/** Split the API's error text into problems and attach each to the design element and field it names. */
export function mapProblems(errorText: string, paths: Record<string, string>): Problem[] {
  return errorText.split('\n').map(l => l.trim()).filter(Boolean).map(line => {
    const m = /^(?:[^:\s]*:\d+:\d+:\s*)?((?:[a-zA-Z]+(?:\[\d+\])?)(?:\.[a-zA-Z]+(?:\[\d+\])?)*):\s/.exec(line);
    if (!m) return { line, path: null, target: null, field: null };
    const path = m[1];
    // longest known prefix
    const parts = path.split('.');
    for (let k = parts.length; k > 0; k--) {
      const prefix = parts.slice(0, k).join('.');
      if (paths[prefix]) {
        const rest = parts.slice(k);
        let field: string | null = rest.length ? rest[0].replace(/\[\d+\]$/, '') : null;
        if (!field && /\.nics\[\d+\]$/.test(prefix)) field = 'ip';
        if (!field && /^nodes\[\d+\]$/.test(prefix)) field = 'node';
        return { line, path, target: paths[prefix], field };
      }
    }
    return { line, path, target: null, field: null };
  });
}

// ---- live state ------------------------------------------------------------------------------

/** The VM states of openapi.json (VmState), in life order; a state added there and missing here is a compile error. */
export const VM_STATES = ['REQUESTED', 'PREPARING', 'RUNNING', 'STOPPED', 'ERROR', 'DESTROYED'] as const satisfies readonly VmState[];
const everyVmState: [Exclude<VmState, (typeof VM_STATES)[number]>] extends [never] ? true : Exclude<VmState, (typeof VM_STATES)[number]> = true;
void everyVmState;

export function countByState<T extends { state: string }>(items: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i.state] = (out[i.state] ?? 0) + 1;
  return out;
}

/**
 * One state for a group of VMs, as the server computes a node's and a topology's state (Node.state, Topology.state):
 * ERROR if any is in ERROR, the common state when all agree, else MIXED; EMPTY for no VMs.
 */
export function aggregateState(states: VmState[]): Topology['state'] {
  if (states.length === 0) return 'EMPTY';
  if (states.includes('ERROR')) return 'ERROR';
  if (states.every(s => s === states[0])) return states[0];
  return 'MIXED';
}

export interface NicLike { link: string; impair: unknown }

export type LinkState = 'up' | 'down' | 'impaired';

export function linkState(nic: NicLike): LinkState {
  if (nic.link === 'down') return 'down';
  if (nic.impair !== null && nic.impair !== undefined && Object.keys(nic.impair as object).length > 0) return 'impaired';
  return 'up';
}

export function stateColor(state: string): string {
  switch (state) {
    case 'RUNNING': return '#2e9d4f';
    case 'STOPPED': return '#888';
    case 'ERROR': return '#d33';
    case 'REQUESTED': case 'PREPARING': return '#e0a800';
    case 'DEGRADED': case 'MIXED': return '#e07b00';
    default: return '#999';
  }
}

/** Impairment as the API returns it (delayMs …) in words. */
export function impairText(impair: unknown): string {
  if (!impair || typeof impair !== 'object') return '';
  const i = impair as Record<string, number>;
  const parts: string[] = [];
  if (i.delayMs) parts.push(`delay ${i.delayMs}ms`);
  if (i.jitterMs) parts.push(`jitter ${i.jitterMs}ms`);
  if (i.lossPercent) parts.push(`loss ${i.lossPercent}%`);
  if (i.rateKbit) parts.push(`rate ${i.rateKbit}kbit`);
  if (i.corruptPercent) parts.push(`corrupt ${i.corruptPercent}%`);
  if (i.duplicatePercent) parts.push(`duplicate ${i.duplicatePercent}%`);
  return parts.join(' ');
}

/** Deployed VM name of a design VM (<topology>-<node>-<vm>). */
export function deployedVmName(topology: string, node: string, vm: string): string {
  return `${topology}-${node}-${vm}`;
}
