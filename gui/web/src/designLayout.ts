// The designer's graph for React Flow and ELK: every element as large as it is drawn, a VM inside the frame of its node
// (parentId) when the design has a box for that node, and the layout ELK finds written back into the design's
// coordinates (absolute, as the design keeps them). Pure; unit-tested in designLayout.test.ts.
import { GROUP_PAD, type FlowEdgeLike, type FlowNodeLike, type LayoutResult, type Rect } from './layout';
import { nicEnds, nodeOf, routerEnds, type Design, type DesignElement } from './model';

export const VM_SIZE = { width: 180, height: 62 };
const text = (s: string, min: number, max: number) => Math.min(max, Math.max(min, Math.ceil(s.length * 7.6) + 30));

/** The size an element is drawn at (a node box: its width and height properties). */
export function elementSize(el: DesignElement): { width: number; height: number } {
  switch (el.kind) {
    case 'vm': return VM_SIZE;
    case 'network': return { width: text(`net ${el.props.name}`, 200, 380), height: 50 };
    case 'router': return { width: text(`router ${el.props.name}`, 150, 320), height: 40 };
    case 'group': return { width: num(el.props.w, 320), height: num(el.props.h, 220) };
  }
}

/** The node box (group element) a VM is drawn in: the box of the node it belongs to, if the design has one. */
export function frameOf(design: Design, vm: DesignElement): DesignElement | undefined {
  const node = nodeOf(design, vm);
  return design.elements.find(g => g.kind === 'group' && g.props.name === node);
}

/** Each node box as drawn: its own rectangle grown to hold its VMs (with room for its title). */
export function frames(design: Design): Record<string, Rect> {
  const out: Record<string, Rect> = {};
  for (const g of design.elements.filter(e => e.kind === 'group')) {
    const s = elementSize(g);
    let x0 = g.x, y0 = g.y, x1 = g.x + s.width, y1 = g.y + s.height;
    for (const vm of design.elements.filter(e => e.kind === 'vm' && frameOf(design, e)?.id === g.id)) {
      x0 = Math.min(x0, vm.x - GROUP_PAD.side); y0 = Math.min(y0, vm.y - GROUP_PAD.top);
      x1 = Math.max(x1, vm.x + VM_SIZE.width + GROUP_PAD.side); y1 = Math.max(y1, vm.y + VM_SIZE.height + GROUP_PAD.bottom);
    }
    out[g.id] = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }
  return out;
}

/** The design as React Flow nodes and edges for the layout (frames first; a NIC's edge from its network down to its VM). */
export function designFlow(design: Design): { nodes: FlowNodeLike[]; edges: FlowEdgeLike[] } {
  const groups = design.elements.filter(e => e.kind === 'group');
  const vmsIn = (g: DesignElement) => design.elements.some(e => e.kind === 'vm' && frameOf(design, e)?.id === g.id);
  const nodes: FlowNodeLike[] = [
    // a box without VMs is laid out at its own size; one with VMs as large as they need
    ...groups.map(g => ({ id: g.id, type: 'group', ...(vmsIn(g) ? {} : elementSize(g)) })),
    ...design.elements.filter(e => e.kind !== 'group').map(e => ({ id: e.id, type: e.kind, parentId: e.kind === 'vm' ? frameOf(design, e)?.id : undefined, ...elementSize(e) })),
  ];
  const edges: FlowEdgeLike[] = [];
  for (const e of design.edges) {
    const n = nicEnds(design, e);
    if (n) { edges.push({ id: e.id, source: n.net.id, target: n.vm.id, label: e.ip?.trim() ? e.ip.trim() : 'auto' }); continue; }
    const r = routerEnds(design, e);
    if (r) edges.push({ id: e.id, source: r.router.id, target: r.net.id, label: 'port' });
  }
  return { nodes, edges };
}

/** The design with the layout's places (and the node boxes' sizes); what it describes stays the same. */
export function applyLayout(design: Design, r: LayoutResult): Design {
  const d = structuredClone(design);
  for (const el of d.elements) {
    const b = el.kind === 'group' ? r.groups[el.id] ?? r.boxes[el.id] : r.boxes[el.id];
    if (!b) continue;
    el.x = Math.round(b.x); el.y = Math.round(b.y);
    if (el.kind === 'group') { el.props.w = String(Math.round(b.width)); el.props.h = String(Math.round(b.height)); }
  }
  return d;
}

/**
 * Places kept from an earlier design of the same topology (the designer keeps designs in the browser): when every
 * element of `next` has a counterpart (same kind and name) in `kept`, `next` with their places; else null (lay it out).
 */
export function keptPlaces(next: Design, kept: Design | undefined): Design | null {
  if (!kept) return null;
  const d = structuredClone(next);
  for (const el of d.elements) {
    const k = kept.elements.find(x => x.kind === el.kind && x.props.name === el.props.name);
    if (!k) return null;
    el.x = k.x; el.y = k.y;
    if (el.kind === 'group') { el.props.w = k.props.w; el.props.h = k.props.h; }
  }
  return d;
}

function num(s: string | undefined, dflt: number): number {
  const n = Number(s);
  return Number.isFinite(n) && n > 0 && s !== undefined && s.trim() !== '' ? n : dflt;
}
