// The live state: the API's lists, refreshed on every SSE event (debounced) and every few seconds; and the scenario
// runs, kept from the scenario.* events (a GET of a run only when an event was missed: a gap in the events' seq, a
// reconnect, a step of a run never announced).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, subscribe, type Operation, type ScenarioRun, type SseStatus, type Network, type Router, type Segment, type ServerEvent, type Topology, type Vm, type VmNode } from './api';
import { applyScenarioEvent, missedEvents, NO_RUNS, putRuns, type RunsState } from './scenario';

export interface LiveState {
  vms: Vm[];
  nodes: VmNode[];
  networks: Network[];
  routers: Router[];
  /** isolated segments (their own namespaces): owner, TTL, what is in them */
  segments: Segment[];
  topologies: Topology[];
  /** the newest operations (every mutating call is one), newest first */
  operations: Operation[];
  /** the newest scenario runs, newest first, with the faults they hold (see scenario.ts) */
  runs: RunsState;
  events: ServerEvent[];
  sse: SseStatus;
  loadError: string | null;
  loadedAt: number;
}

const EMPTY: LiveState = { vms: [], nodes: [], networks: [], routers: [], segments: [], topologies: [], operations: [], runs: NO_RUNS, events: [], sse: 'connecting', loadError: null, loadedAt: 0 };

type Listener = (e: ServerEvent) => void;

/** What pages get to change the runs: a run the API answered (POST, abort), or reload them all. */
export interface RunsControl {
  put: (runs: ScenarioRun[]) => void;
  reload: () => void;
}

const RUNS_KEPT = 50;

export function useLive(): { live: LiveState; refresh: () => void; onEvent: (l: Listener) => () => void; runs: RunsControl } {
  const [live, setLive] = useState<LiveState>(EMPTY);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const listeners = useRef(new Set<Listener>());
  const inflight = useRef(false);
  const again = useRef(false);
  const lastSeq = useRef(0);
  const wasDown = useRef(false);
  const runsRef = useRef<RunsState>(NO_RUNS);

  const load = useCallback(async () => {
    if (inflight.current) { again.current = true; return; }
    inflight.current = true;
    try {
      const [vms, nodes, networks, routers, segments, topologies, operations] = await Promise.all([
        api.vms(), api.nodes(), api.networks(), api.routers(), api.segments(), api.topologies(), api.operations({ limit: 20 })]);
      setLive(s => ({ ...s, vms, nodes, networks, routers, segments, topologies, operations, loadError: null, loadedAt: Date.now() }));
    } catch (e) {
      setLive(s => ({ ...s, loadError: String((e as Error).message ?? e) }));
    } finally {
      inflight.current = false;
      if (again.current) { again.current = false; void load(); }
    }
  }, []);

  // the runs: runsRef is the truth (events change it synchronously), the state its copy for rendering
  const setRuns = useCallback((next: RunsState) => {
    const keep = next.runs.filter((r, i) => i < RUNS_KEPT * 2 || r.verdict === 'running');
    runsRef.current = keep.length === next.runs.length ? next : { ...next, runs: keep };
    setLive(s => ({ ...s, runs: runsRef.current }));
  }, []);
  const putRunsNow = useCallback((runs: ScenarioRun[]) => setRuns(putRuns(runsRef.current, runs)), [setRuns]);
  const fetchRun = useCallback((id: string) => {
    api.scenarioRun(id).then(r => putRunsNow([r]), () => { /* gone, or the server is away: the next resync */ });
  }, [putRunsNow]);
  /** The newest runs, and every run this browser saw running (it may have finished while we did not listen). */
  const reloadRuns = useCallback(() => {
    api.scenarioRuns({ limit: RUNS_KEPT }).then(rs => {
      putRunsNow(rs);
      const listed = new Set(rs.map(r => r.id));
      for (const r of runsRef.current.runs) if (r.verdict === 'running' && !listed.has(r.id)) fetchRun(r.id);
    }, () => { /* the next resync */ });
  }, [putRunsNow, fetchRun]);

  const refresh = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => { void load(); }, 150);
  }, [load]);

  useEffect(() => {
    void load();
    reloadRuns();
    const unsub = subscribe(e => {
      if (missedEvents(lastSeq.current, e.seq)) reloadRuns();
      lastSeq.current = e.seq;
      setLive(s => ({ ...s, events: [...s.events.slice(-199), e] }));
      if (e.type.startsWith('scenario.')) {
        const r = applyScenarioEvent(runsRef.current, e);
        setRuns(r.state);
        if (r.fetch) fetchRun(r.fetch);
      }
      for (const l of listeners.current) l(e);
      if (e.type !== 'image.progress' && e.type !== 'scenario.step') refresh();
    }, sse => {
      setLive(s => (s.sse === sse ? s : { ...s, sse }));
      if (sse === 'reconnecting' || sse === 'closed') { wasDown.current = true; refresh(); }
      if (sse === 'live' && wasDown.current) { wasDown.current = false; reloadRuns(); }
    });
    const poll = setInterval(() => { void load(); }, 5000);
    return () => { unsub(); clearInterval(poll); };
  }, [load, refresh, reloadRuns, fetchRun, setRuns]);

  const onEvent = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => { listeners.current.delete(l); };
  }, []);

  return { live, refresh, onEvent, runs: { put: putRunsNow, reload: reloadRuns } };
}
