import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  aggregateState, canConnect, countByState, designToJson, designToTopology, designToYaml, emptyDesign, impairText, linkState,
  mapProblems, nodeOf, topologyToDesign, type Design,
} from './model';
import { splitArgs } from './VmDetail';

function twoVms(): Design {
  const d = emptyDesign('duo');
  d.elements.push(
    { id: 'n1', kind: 'network', x: 0, y: 0, props: { name: 'lan', subnet: '198.18.7.0/24', vlan: '' } },
    { id: 'v1', kind: 'vm', x: 0, y: 200, props: { name: 'a', role: 'web', image: 'tiny', cpus: '1', memory: '128M', node: '' } },
    { id: 'v2', kind: 'vm', x: 200, y: 200, props: { name: 'b', role: 'db', image: 'tiny', cpus: '2', memory: '96M', node: '' } },
  );
  d.edges.push({ id: 'e1', source: 'v1', target: 'n1' }, { id: 'e2', source: 'n1', target: 'v2', ip: '198.18.7.20' });
  return d;
}

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
      - {name: api,     role: api-handler, image: tiny, memory: 128M, nics: [public, internal]}
      - {name: cache,   role: db-cache,    image: tiny, memory: 128M, nics: [{network: internal, ip: 198.18.2.10}], startBefore: [api]}
  - name: edge
    vms:
      - {name: gateway, role: external-gw, image: tiny, cpus: 2, memory: 128M, nics: [public]}
`;

describe('design → topology', () => {
  it('leaves an empty role out (a file without roles opens and converts back the same)', () => {
    const text = 'apiVersion: vmctl/v1\nkind: Topology\nname: lay\nnetworks:\n  - {name: n, subnet: 198.18.9.0/24}\nnodes:\n  - name: web\n    vms:\n      - {name: a, image: tiny, memory: 96M, nics: [n]}\n';
    expect(designToTopology(topologyToDesign(text)).doc).toEqual(YAML.parse(text));
  });

  it('converts two VMs on one network, in either edge direction, with a fixed IP', () => {
    const { doc, paths } = designToTopology(twoVms());
    expect(doc).toEqual({
      apiVersion: 'vmctl/v1', kind: 'Topology', name: 'duo',
      networks: [{ name: 'lan', subnet: '198.18.7.0/24' }],
      nodes: [{ name: 'main', vms: [
        { name: 'a', role: 'web', image: 'tiny', cpus: 1, memory: '128M', nics: ['lan'] },
        { name: 'b', role: 'db', image: 'tiny', cpus: 2, memory: '96M', nics: [{ network: 'lan', ip: '198.18.7.20' }] },
      ] }],
    });
    expect(paths['networks[0]']).toBe('n1');
    expect(paths['nodes[0].vms[1]']).toBe('v2');
    expect(paths['nodes[0].vms[1].nics[0]']).toBe('e2');
  });

  it('keeps bad values as text so that the API names them', () => {
    const d = twoVms();
    d.elements[1].props.cpus = 'many';
    d.elements[0].props.vlan = '9999';
    const { doc } = designToTopology(d);
    expect(doc.nodes[0].vms[0].cpus).toBe('many');
    expect(doc.networks![0].vlan).toBe(9999);
  });

  it('groups VMs by node box or node property, and lists routers with their networks', () => {
    const d = twoVms();
    d.elements.push({ id: 'g', kind: 'group', x: 150, y: 150, props: { name: 'backend', w: '300', h: '200' } });
    d.elements.push({ id: 'r', kind: 'router', x: 0, y: -100, props: { name: 'core' } });
    d.edges.push({ id: 'e3', source: 'r', target: 'n1' });
    expect(nodeOf(d, d.elements[1])).toBe('main');
    expect(nodeOf(d, d.elements[2])).toBe('backend');
    const { doc, paths } = designToTopology(d);
    expect(doc.nodes.map(n => n.name)).toEqual(['backend', 'main']);
    expect(doc.routers).toEqual([{ name: 'core', networks: ['lan'] }]);
    expect(paths['nodes[0]']).toBe('g');
    expect(paths['routers[0]']).toBe('r');
  });

  it('allows only VM–network and router–network edges', () => {
    const d = twoVms();
    expect(canConnect(d, 'v1', 'v2')).toBe(false);
    expect(canConnect(d, 'v1', 'n1')).toBe(true);
    expect(canConnect(d, 'n1', 'n1')).toBe(false);
  });
});

describe('topology ⇄ design round trip', () => {
  it('reads the YAML of vmctl up -f and writes the same document back', () => {
    const d = topologyToDesign(SHOP);
    expect(d.name).toBe('shop');
    expect(d.elements.filter(e => e.kind === 'vm').map(e => e.props.name)).toEqual(['api', 'cache', 'gateway']);
    expect(d.elements.filter(e => e.kind === 'group').map(e => e.props.name)).toEqual(['svc', 'edge']);
    const back = designToTopology(d).doc;
    expect(back).toEqual(YAML.parse(SHOP));
  });

  it('keeps the layout in a comment of the saved YAML, and the JSON form is the same document', () => {
    const d = twoVms();
    const yaml = designToYaml(d);
    expect(yaml.startsWith('# vmctl-gui-layout: ')).toBe(true);
    const again = topologyToDesign(yaml);
    expect(again.elements.find(e => e.props.name === 'b')).toMatchObject({ x: 200, y: 200 });
    expect(designToTopology(again).doc).toEqual(designToTopology(d).doc);
    expect(JSON.parse(designToJson(d))).toEqual(YAML.parse(yaml));
    expect(topologyToDesign(designToJson(d)).elements).toHaveLength(3);
  });
});

describe('API problems', () => {
  it('attaches each line of the API error to the element and field it names', () => {
    const { paths } = designToTopology(twoVms());
    const text = "duo.yaml:1:182: nodes[0].vms[0].memory: '12X' is not a size (allowed: 64M..16384M, e.g. 128M)\n"
      + 'duo.yaml:1:40: networks[0].subnet: 198.18.7.5/24 has host bits\n'
      + 'duo.yaml:2:3: nodes[0].vms[1].nics[0]: 198.18.9.1 is not in lan\n'
      + 'something else entirely';
    const ps = mapProblems(text, paths);
    expect(ps[0]).toMatchObject({ target: 'v1', field: 'memory', path: 'nodes[0].vms[0].memory' });
    expect(ps[0].line).toContain("'12X' is not a size");
    expect(ps[1]).toMatchObject({ target: 'n1', field: 'subnet' });
    expect(ps[2]).toMatchObject({ target: 'e2', field: 'ip' });
    expect(ps[3]).toMatchObject({ target: null, field: null, line: 'something else entirely' });
  });
});

describe('state aggregation', () => {
  it('counts by state', () => {
    expect(countByState([{ state: 'RUNNING' }, { state: 'RUNNING' }, { state: 'ERROR' }])).toEqual({ RUNNING: 2, ERROR: 1 });
  });
  it('aggregates a group of VMs', () => {
    expect(aggregateState([])).toBe('EMPTY');
    expect(aggregateState(['RUNNING', 'RUNNING'])).toBe('RUNNING');
    expect(aggregateState(['RUNNING', 'ERROR'])).toBe('ERROR');
    expect(aggregateState(['RUNNING', 'PREPARING'])).toBe('MIXED'); // as the server's nodes: no PREPARING for a mix
    expect(aggregateState(['RUNNING', 'STOPPED'])).toBe('MIXED');
  });
  it('derives link state from a NIC', () => {
    expect(linkState({ link: 'up', impair: null })).toBe('up');
    expect(linkState({ link: 'down', impair: { delayMs: 50 } })).toBe('down');
    expect(linkState({ link: 'up', impair: { delayMs: 50, lossPercent: 2 } })).toBe('impaired');
    expect(impairText({ delayMs: 50, lossPercent: 2 })).toBe('delay 50ms loss 2%');
  });
  it('splits an exec command line', () => {
    expect(splitArgs(`sh -c 'echo hi there' "x y"`)).toEqual(['sh', '-c', 'echo hi there', 'x y']);
  });
});
