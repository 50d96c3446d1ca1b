import { describe, expect, it } from 'vitest';
import { nodeHref, nodeRoute, parseRoute } from './router';

describe('routes', () => {
  it('a node page names its topology and node', () => {
    expect(nodeHref('shop', 'svc 1')).toBe('#/node/shop/svc%201');
    const [route, arg] = parseRoute(nodeHref('shop', 'svc 1'));
    expect(route).toBe('node');
    expect(nodeRoute(arg)).toEqual({ topology: 'shop', node: 'svc 1' });
  });
});
