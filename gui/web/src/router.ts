// The app's routes: the URL fragment (#/dashboard, #/designer, #/live/NAME, #/vm/ID, #/node/TOPOLOGY/NODE, #/scenarios[/NAME], #/templates[/NAME]). Pages
// import this module to navigate, not App (no import cycle between App and its pages).
import { useEffect, useState } from 'react';

export const DEFAULT_ROUTE = '#/dashboard';

export function useHash(): string {
  const [hash, setHash] = useState(window.location.hash || DEFAULT_ROUTE);
  useEffect(() => {
    const f = () => setHash(window.location.hash || DEFAULT_ROUTE);
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return hash;
}

export function go(hash: string) {
  window.location.hash = hash;
}

/** The route and its argument: '#/live/shop' → ['live', 'shop']. */
export function parseRoute(hash: string): [string, string] {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash);
  return m ? [m[1], m[2] ? decodeURIComponent(m[2]) : ''] : ['dashboard', ''];
}

/** '#/node/shop/svc' carries 'shop/svc': the topology, then the node (names have no '/'). */
export function nodeRoute(arg: string): { topology: string; node: string } {
  const i = arg.indexOf('/');
  return i < 0 ? { topology: arg, node: '' } : { topology: arg.slice(0, i), node: arg.slice(i + 1) };
}

export function nodeHref(topology: string, node: string): string {
  return `#/node/${encodeURIComponent(topology)}/${encodeURIComponent(node)}`;
}
