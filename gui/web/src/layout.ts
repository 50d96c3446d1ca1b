// Automatic layout of a topology graph with ELK (elkjs, layered algorithm): routers above networks above the node
// frames, each node a frame around its VMs; edges routed orthogonally with their labels placed by ELK so that no two
// boxes and no two labels overlap. Pure (no React): the live view and the designer map their models onto LayoutInput
// and draw the answer. Unit-tested in layout.test.ts with the real ELK.
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';

export interface Rect { x: number; y: number; width: number; height: number }
export interface XY { x: number; y: number }

/** A box to place (a VM, a network, a router); `group`: the frame it lies in. */
export interface LayoutBox { id: string; width: number; height: number; group?: string }
/** A frame around boxes (a node of the topology); a frame without boxes gets its own size. */
export interface LayoutGroup { id: string; width?: number; height?: number }
/** An edge from an upper box to a lower one (router → network, network → VM), with an optional label. */
export interface LayoutEdge { id: string; source: string; target: string; label?: string }
export interface LayoutInput { groups: LayoutGroup[]; boxes: LayoutBox[]; edges: LayoutEdge[] }

export interface PlacedEdge {
  /** the route from source to target, in absolute coordinates (start, bends, end) */
  points: XY[];
  /** where the label lies (absolute), as large as labelSize made it */
  label: Rect | null;
}
export interface LayoutResult {
  /** every box, absolute */
  boxes: Record<string, Rect>;
  /** every frame, absolute */
  groups: Record<string, Rect>;
  edges: Record<string, PlacedEdge>;
  width: number;
  height: number;
}

/** A frame's room for its title above its boxes, and its margin. */
export const GROUP_PAD = { top: 30, side: 16, bottom: 16 };
/** Labels are drawn in an 11 px monospace font, one line, exactly this large (layout.css: .elk-label). */
export function labelSize(text: string): { width: number; height: number } {
  return { width: Math.min(260, Math.ceil(text.length * 6.7) + 10), height: 18 };
}

const ROOT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.json.edgeCoords': 'ROOT',
  'elk.spacing.nodeNode': '36',
  'elk.spacing.edgeLabel': '4',
  'elk.spacing.edgeNode': '16',
  'elk.spacing.edgeEdge': '12',
  'elk.layered.spacing.nodeNodeBetweenLayers': '48',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.padding': '[top=20,left=20,bottom=20,right=20]',
};
const GROUP_OPTIONS: Record<string, string> = {
  'elk.padding': `[top=${GROUP_PAD.top},left=${GROUP_PAD.side},bottom=${GROUP_PAD.bottom},right=${GROUP_PAD.side}]`,
  'elk.spacing.nodeNode': '28',
};

/** The ELK graph of the input: frames as compound nodes, edges to unknown boxes and loops left out. */
export function toElk(input: LayoutInput): ElkNode {
  const known = new Set(input.boxes.map(b => b.id));
  const groups = new Map<string, ElkNode>();
  for (const g of input.groups) {
    if (groups.has(g.id) || known.has(g.id)) continue;
    groups.set(g.id, { id: g.id, layoutOptions: GROUP_OPTIONS, children: [] });
  }
  const root: ElkNode = { id: '__root', layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  for (const b of input.boxes) {
    const n: ElkNode = { id: b.id, width: b.width, height: b.height };
    const g = b.group ? groups.get(b.group) : undefined;
    (g ? g.children! : root.children!).push(n);
  }
  for (const g of input.groups) {
    const n = groups.get(g.id);
    if (!n) continue;
    if (n.children!.length === 0) {
      delete n.children;
      n.width = g.width ?? 200;
      n.height = g.height ?? 100;
    }
    root.children!.push(n);
  }
  const edges: ElkExtendedEdge[] = [];
  const seen = new Set<string>();
  for (const e of input.edges) {
    if (!known.has(e.source) || !known.has(e.target) || e.source === e.target || seen.has(e.id)) continue;
    seen.add(e.id);
    edges.push({ id: e.id, sources: [e.source], targets: [e.target],
      labels: e.label ? [{ id: e.id + ':label', text: e.label, ...labelSize(e.label) }] : undefined });
  }
  root.edges = edges;
  return root;
}

/** The layout's answer in absolute coordinates. */
export function fromElk(laid: ElkNode, input: LayoutInput): LayoutResult {
  const groupIds = new Set(input.groups.map(g => g.id));
  const boxes: Record<string, Rect> = {};
  const groups: Record<string, Rect> = {};
  const walk = (n: ElkNode, ox: number, oy: number) => {
    for (const c of n.children ?? []) {
      const r = { x: ox + (c.x ?? 0), y: oy + (c.y ?? 0), width: c.width ?? 0, height: c.height ?? 0 };
      if (groupIds.has(c.id)) groups[c.id] = r; else boxes[c.id] = r;
      walk(c, r.x, r.y);
    }
  };
  walk(laid, 0, 0);
  const edges: Record<string, PlacedEdge> = {};
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    const s = e.sections?.[0];
    const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map(p => ({ x: p.x, y: p.y })) : [];
    const l = e.labels?.[0];
    edges[e.id] = { points, label: l ? { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } : null };
  }
  return { boxes, groups, edges, width: laid.width ?? 0, height: laid.height ?? 0 };
}

type ElkLike = { layout: (g: ElkNode) => Promise<ElkNode> };
let elk: Promise<ElkLike> | null = null;
/** ELK, loaded on first use (its bundle is large; pages without a graph never load it). */
function engine(): Promise<ElkLike> {
  elk ??= import('elkjs/lib/elk.bundled.js').then(m => new m.default() as unknown as ElkLike);
  return elk;
}

export async function layoutGraph(input: LayoutInput): Promise<LayoutResult> {
  const laid = await (await engine()).layout(toElk(input));
  return fromElk(laid, input);
}

/** Whether two rectangles share any area (touching edges do not count). */
export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Whether `inner` lies wholly inside `outer`. */
export function contains(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

/** An SVG path through the points (straight segments; rounded corners of radius r where the route bends). */
export function pathOf(points: XY[], r = 6): string {
  if (points.length === 0) return '';
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i];
    const next = points[i + 1];
    if (!next || r <= 0) { d += ` L ${p.x} ${p.y}`; continue; }
    const prev = points[i - 1];
    const k1 = Math.min(r, dist(prev, p) / 2), k2 = Math.min(r, dist(p, next) / 2);
    const a = toward(p, prev, k1), b = toward(p, next, k2);
    d += ` L ${a.x} ${a.y} Q ${p.x} ${p.y} ${b.x} ${b.y}`;
  }
  return d;
}

function dist(a: XY, b: XY): number { return Math.hypot(a.x - b.x, a.y - b.y); }
function toward(from: XY, to: XY, k: number): XY {
  const d = dist(from, to) || 1;
  return { x: round(from.x + ((to.x - from.x) * k) / d), y: round(from.y + ((to.y - from.y) * k) / d) };
}
function round(n: number): number { return Math.round(n * 100) / 100; }

/** A key that changes when the layout's input does (the views lay out again only then). */
export function layoutKey(input: LayoutInput): string {
  return JSON.stringify([input.groups.map(g => [g.id, g.width, g.height]), input.boxes.map(b => [b.id, b.width, b.height, b.group ?? '']),
    input.edges.map(e => [e.id, e.source, e.target, e.label ?? ''])]);
}

// ---- React Flow ↔ layout ---------------------------------------------------------------------

/** What the views hand over: their React Flow nodes (frames are `group` nodes; boxes name their frame as parentId). */
export interface FlowNodeLike { id: string; type?: string; parentId?: string; width?: number; height?: number }
/** An edge as drawn (source → target) and whether ELK should see it the other way round (target above source). */
export interface FlowEdgeLike { id: string; source: string; target: string; label?: string; upward?: boolean }

export function flowToLayout(nodes: FlowNodeLike[], edges: FlowEdgeLike[]): LayoutInput {
  return {
    groups: nodes.filter(n => n.type === 'group').map(n => ({ id: n.id, width: n.width, height: n.height })),
    boxes: nodes.filter(n => n.type !== 'group').map(n => ({ id: n.id, width: n.width ?? 150, height: n.height ?? 50, group: n.parentId })),
    edges: edges.map(e => (e.upward ? { id: e.id, source: e.target, target: e.source, label: e.label } : { id: e.id, source: e.source, target: e.target, label: e.label })),
  };
}

/** Positions for React Flow: a frame's absolute place and size, a box's place relative to its frame (parentId). */
export function flowPositions(nodes: FlowNodeLike[], r: LayoutResult): Record<string, { x: number; y: number; width?: number; height?: number }> {
  const out: Record<string, { x: number; y: number; width?: number; height?: number }> = {};
  for (const n of nodes) {
    const g = r.groups[n.id];
    if (g) { out[n.id] = { x: g.x, y: g.y, width: g.width, height: g.height }; continue; }
    const b = r.boxes[n.id];
    if (!b) continue;
    const p = n.parentId ? r.groups[n.parentId] : undefined;
    out[n.id] = p ? { x: b.x - p.x, y: b.y - p.y } : { x: b.x, y: b.y };
  }
  return out;
}

/** An edge's route as drawn: from its source to its target (ELK's route reversed for an upward edge). */
export function flowRoute(e: FlowEdgeLike, r: LayoutResult): PlacedEdge | null {
  const p = r.edges[e.id];
  if (!p) return null;
  return e.upward ? { points: [...p.points].reverse(), label: p.label } : p;
}
