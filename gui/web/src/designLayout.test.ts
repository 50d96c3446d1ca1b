import { describe, expect, it } from 'vitest';
import { applyLayout, designFlow, elementSize, frameOf, frames, keptPlaces } from './designLayout';
import { contains, flowToLayout, layoutGraph, overlaps, type Rect } from './layout';
import { designToTopology, groupAt, hasLayout, nodeOf, topologyToDesign, designToYaml } from './model';

const SHOP = `apiVersion: vmctl/v1
kind: Topology
name: shop
networks:
  - {name: public, subnet: 198.18.1.0/24}
  - {name: internal, subnet: 198.18.2.0/24, vlan: 20}
routers:
  - name: core
    networks: [public, internal]
nodes:
  - name: svc
    vms:
      - {name: api, role: api-handler, image: tiny, memory: 128M, nics: [public, internal]}
      - {name: cache, role: db-cache, image: tiny, memory: 128M, nics: [{network: internal, ip: 198.18.2.10}], startBefore: [api]}
  - name: edge
    vms:
      - {name: gateway, role: external-gw, image: tiny, cpus: 2, memory: 128M, nics: [public]}
`;

const rect = (d: ReturnType<typeof topologyToDesign>, name: string): Rect => {
  const el = d.elements.find(e => e.props.name === name)!;
  return { x: el.x, y: el.y, ...elementSize(el) };
};

describe('designer layout', { timeout: 60_000 }, () => {
  it('lays a topology out with its VMs apart, each in its node box, and the topology unchanged', async () => {
    // every VM piled on one spot, as a file without a layout would not be, but a careless drag could leave them
    const d = topologyToDesign(SHOP);
    for (const el of d.elements) { el.x = 0; el.y = 0; }
    const before = designToTopology(d).doc;
    const { nodes, edges } = designFlow(d);
    expect(nodes.slice(0, 2).map(n => n.type)).toEqual(['group', 'group']); // frames first
    expect(nodes.find(n => n.id === d.elements.find(e => e.props.name === 'api')!.id)!.parentId)
      .toBe(d.elements.find(e => e.kind === 'group' && e.props.name === 'svc')!.id);
    expect(edges.map(e => e.label).sort()).toEqual(['198.18.2.10', 'auto', 'auto', 'auto', 'port', 'port']);

    const laid = applyLayout(d, await layoutGraph(flowToLayout(nodes, edges)));
    expect(designToTopology(laid).doc).toEqual(before);
    const names = ['api', 'cache', 'gateway', 'public', 'internal', 'core'];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) expect(overlaps(rect(laid, names[i]), rect(laid, names[j])), `${names[i]} / ${names[j]}`).toBe(false);
    }
    const fr = frames(laid);
    for (const vm of laid.elements.filter(e => e.kind === 'vm')) {
      const g = frameOf(laid, vm)!;
      expect(contains(fr[g.id], rect(laid, vm.props.name)), vm.props.name).toBe(true);
      // the box it lies in is its node's (a VM without a node property would join it by place)
      expect(groupAt(laid, vm.x + 60, vm.y + 20)?.props.name).toBe(nodeOf(laid, vm));
      // the layout sized the box to hold its VMs: drawn as laid out
      expect(fr[g.id]).toEqual({ x: g.x, y: g.y, width: Number(g.props.w), height: Number(g.props.h) });
    }
  });

  it('grows a node box to hold a VM dragged past its border', () => {
    const d = topologyToDesign(SHOP);
    const g = d.elements.find(e => e.kind === 'group' && e.props.name === 'edge')!;
    const vm = d.elements.find(e => e.props.name === 'gateway')!;
    vm.x = g.x + 500; vm.y = g.y - 100;
    const f = frames(d)[g.id];
    expect(contains(f, { x: vm.x, y: vm.y, ...elementSize(vm) })).toBe(true);
    expect(f.x).toBe(g.x);
  });

  it('keeps the places of a kept design when every element has one, else asks for a layout', () => {
    const d = topologyToDesign(SHOP);
    const kept = structuredClone(d);
    kept.elements.forEach((e, i) => { e.x = 1000 + i; e.y = 2000 + i; });
    const again = keptPlaces(topologyToDesign(SHOP), kept)!;
    expect(again.elements.map(e => [e.kind, e.props.name, e.x, e.y])).toEqual(kept.elements.map(e => [e.kind, e.props.name, e.x, e.y]));
    expect(keptPlaces(topologyToDesign(SHOP.replace('name: gateway', 'name: gw2')), kept)).toBeNull();
    expect(keptPlaces(d, undefined)).toBeNull();
  });

  it('tells a file with the designer\'s layout from one without', () => {
    expect(hasLayout(SHOP)).toBe(false);
    expect(hasLayout(designToYaml(topologyToDesign(SHOP)))).toBe(true);
  });
});
