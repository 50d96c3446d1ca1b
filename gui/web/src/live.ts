// The live state: the API's lists, refreshed on every SSE event (debounced) and every few seconds.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, subscribe, type Operation, type SseStatus, type Network, type Router, type ServerEvent, type Topology, type Vm, type VmNode } from './api';

export interface LiveState {
  vms: Vm[];
  nodes: VmNode[];
  networks: Network[];
  routers: Router[];
  topologies: Topology[];
  /** the newest operations (every mutating call is one), newest first */
  operations: Operation[];
  events: ServerEvent[];
  sse: SseStatus;
  loadError: string | null;
  loadedAt: number;
}

const EMPTY: LiveState = { vms: [], nodes: [], networks: [], routers: [], topologies: [], operations: [], events: [], sse: 'connecting', loadError: null, loadedAt: 0 };

type Listener = (e: ServerEvent) => void;

export function useLive(): { live: LiveState; refresh: () => void; onEvent: (l: Listener) => () => void } {
  const [live, setLive] = useState<LiveState>(EMPTY);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const listeners = useRef(new Set<Listener>());
  const inflight = useRef(false);
  const again = useRef(false);

  const load = useCallback(async () => {
    if (inflight.current) { again.current = true; return; }
    inflight.current = true;
    try {
      const [vms, nodes, networks, routers, topologies, operations] = await Promise.all([
        api.vms(), api.nodes(), api.networks(), api.routers(), api.topologies(), api.operations({ limit: 20 })]);
      setLive(s => ({ ...s, vms, nodes, networks, routers, topologies, operations, loadError: null, loadedAt: Date.now() }));
    } catch (e) {
      setLive(s => ({ ...s, loadError: String((e as Error).message ?? e) }));
    } finally {
      inflight.current = false;
      if (again.current) { again.current = false; void load(); }
    }
  }, []);

  const refresh = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => { void load(); }, 150);
  }, [load]);

  useEffect(() => {
    void load();
    const unsub = subscribe(e => {
      setLive(s => ({ ...s, events: [...s.events.slice(-199), e] }));
      for (const l of listeners.current) l(e);
      if (e.type !== 'image.progress') refresh();
    }, sse => {
      setLive(s => (s.sse === sse ? s : { ...s, sse }));
      if (sse === 'reconnecting') refresh();
    });
    const poll = setInterval(() => { void load(); }, 5000);
    return () => { unsub(); clearInterval(poll); };
  }, [load, refresh]);

  const onEvent = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => { listeners.current.delete(l); };
  }, []);

  return { live, refresh, onEvent };
}
