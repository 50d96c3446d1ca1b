import { describe, expect, it } from 'vitest';
import {
  contains, flowPositions, flowRoute, flowToLayout, labelSize, layoutGraph, layoutKey, overlaps, pathOf, toElk,
  type FlowEdgeLike, type FlowNodeLike, type Rect,
} from './layout';

// the live view's graph of a deployed 2-node topology: a router, two networks, node web (2 VMs) and node db (1 VM)
const nodes: FlowNodeLike[] = [
  { id: 'node:web', type: 'group' }, { id: 'node:db', type: 'group' },
  { id: 'router:core', type: 'live', width: 160, height: 40 },
  { id: 'net:public', type: 'live', width: 220, height: 50 }, { id: 'net:internal', type: 'live', width: 220, height: 50 },
  { id: 'vm:web-a', type: 'live', parentId: 'node:web', width: 210, height: 76 },
  { id: 'vm:web-b', type: 'live', parentId: 'node:web', width: 210, height: 98 },
  { id: 'vm:db-a', type: 'live', parentId: 'node:db', width: 210, height: 76 },
];
const edges: FlowEdgeLike[] = [
  { id: 'port:core:public', source: 'router:core', target: 'net:public', label: '198.18.1.1' },
  { id: 'port:core:internal', source: 'router:core', target: 'net:internal', label: '198.18.2.1' },
  { id: 'nic:web-a:eth0', source: 'vm:web-a', target: 'net:public', label: 'eth0 up', upward: true },
  { id: 'nic:web-a:eth1', source: 'vm:web-a', target: 'net:internal', label: 'eth1 impaired delay 50ms loss 2%', upward: true },
  { id: 'nic:web-b:eth0', source: 'vm:web-b', target: 'net:public', label: 'eth0 down', upward: true },
  { id: 'nic:db-a:eth0', source: 'vm:db-a', target: 'net:internal', label: 'eth0 up ⚡ cut', upward: true },
];

describe('layout of a topology', { timeout: 60_000 }, () => {
  it('places no two boxes and no two labels on each other, every VM inside its frame', async () => {
    const r = await layoutGraph(flowToLayout(nodes, edges));
    const boxes = Object.entries(r.boxes);
    expect(boxes.map(([id]) => id).sort()).toEqual(nodes.filter(n => n.type !== 'group').map(n => n.id).sort());
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i][1], boxes[j][1]), `${boxes[i][0]} / ${boxes[j][0]}`).toBe(false);
    }
    expect(overlaps(r.groups['node:web'], r.groups['node:db'])).toBe(false);
    for (const n of nodes.filter(n => n.parentId)) expect(contains(r.groups[n.parentId!], r.boxes[n.id]), n.id).toBe(true);
    // a box outside a frame does not lie in it
    for (const id of ['router:core', 'net:public', 'net:internal']) {
      for (const g of Object.values(r.groups)) expect(overlaps(g, r.boxes[id]), id).toBe(false);
    }
    const labels = edges.map(e => [e.id, r.edges[e.id].label!] as [string, Rect]);
    for (let i = 0; i < labels.length; i++) {
      expect(labels[i][1]).toMatchObject(labelSize(edges[i].label!));
      for (let j = i + 1; j < labels.length; j++) expect(overlaps(labels[i][1], labels[j][1]), `${labels[i][0]} / ${labels[j][0]}`).toBe(false);
      for (const [id, b] of boxes) expect(overlaps(labels[i][1], b), `${labels[i][0]} on ${id}`).toBe(false);
    }
    // routers above networks above the frames (edges point down in the layout)
    expect(r.boxes['router:core'].y + 40).toBeLessThanOrEqual(r.boxes['net:public'].y);
    expect(r.boxes['net:public'].y + 50).toBeLessThanOrEqual(r.groups['node:web'].y);
  });

  it('routes each edge from its source to its target, reversed for an upward edge', async () => {
    const r = await layoutGraph(flowToLayout(nodes, edges));
    const nic = flowRoute(edges[2], r)!;
    const vm = r.boxes['vm:web-a'], net = r.boxes['net:public'];
    const [first, last] = [nic.points[0], nic.points[nic.points.length - 1]];
    expect(first.y).toBeCloseTo(vm.y, 0); // leaves the VM at its top
    expect(last.y).toBeCloseTo(net.y + net.height, 0); // ends at the network's bottom
    expect(first.x).toBeGreaterThanOrEqual(vm.x);
    expect(first.x).toBeLessThanOrEqual(vm.x + vm.width);
    const port = flowRoute(edges[0], r)!;
    expect(port.points[0].y).toBeCloseTo(r.boxes['router:core'].y + 40, 0);
  });

  it('gives React Flow frames absolutely and their boxes relative to them', async () => {
    const r = await layoutGraph(flowToLayout(nodes, edges));
    const p = flowPositions(nodes, r);
    expect(p['node:web']).toEqual(r.groups['node:web']);
    expect(p['vm:web-a']).toEqual({ x: r.boxes['vm:web-a'].x - r.groups['node:web'].x, y: r.boxes['vm:web-a'].y - r.groups['node:web'].y });
    expect(p['net:public']).toEqual({ x: r.boxes['net:public'].x, y: r.boxes['net:public'].y });
  });

  it('leaves out edges to unknown boxes and loops; an empty frame keeps its size', () => {
    const g = toElk({ groups: [{ id: 'g', width: 300, height: 120 }], boxes: [{ id: 'a', width: 10, height: 10 }],
      edges: [{ id: 'x', source: 'a', target: 'nope' }, { id: 'y', source: 'a', target: 'a' }] });
    expect(g.edges).toEqual([]);
    expect(g.children!.find(c => c.id === 'g')).toMatchObject({ width: 300, height: 120 });
    expect(g.children!.find(c => c.id === 'g')!.children).toBeUndefined();
  });

  it('keys change with what the layout depends on only', () => {
    const a = flowToLayout(nodes, edges);
    expect(layoutKey(a)).toBe(layoutKey(flowToLayout(nodes.map(n => ({ ...n })), edges)));
    expect(layoutKey(a)).not.toBe(layoutKey(flowToLayout(nodes, edges.map((e, i) => (i === 2 ? { ...e, label: 'eth0 down' } : e)))));
  });

  it('draws a route with rounded bends', () => {
    expect(pathOf([{ x: 0, y: 0 }, { x: 0, y: 50 }])).toBe('M 0 0 L 0 50');
    expect(pathOf([{ x: 0, y: 0 }, { x: 0, y: 50 }, { x: 40, y: 50 }])).toBe('M 0 0 L 0 44 Q 0 50 6 50 L 40 50');
  });
});
