// Scenario runs in the GUI, pure (no React, no fetch; unit-tested in scenario.test.ts): the runs store kept from
// scenario.* events (merging a journal line by line, whatever order events and GETs arrive in), the timeline laid out
// from a journal, the faults a run holds on a topology (what the live view marks), problems placed at their lines.
import type { ScenarioProblem, ScenarioRun, ScenarioStepResult, ServerEvent, Topology } from './api';

// ---- the runs store ---------------------------------------------------------------------------

/** A journal line's identity within its run: a phase has at most one check, fault or action per index and name. */
export function stepKey(s: Pick<ScenarioStepResult, 'phase' | 'kind' | 'index' | 'name'>): string {
  return `${s.phase}|${s.kind}|${s.index}|${s.name}`;
}

const OUTCOME_RANK: Record<string, number> = { pending: 0, running: 1, applied: 2 };

/** How far a journal line has got: its outcome (pending < running < applied < final), then its times. */
export function stepProgress(s: ScenarioStepResult): number {
  const times = [s.startedMs, s.finishedMs, s.revertedMs].filter(t => t !== null && t !== undefined).length;
  return (OUTCOME_RANK[s.outcome] ?? 3) * 10 + times;
}

const isDone = (r: ScenarioRun) => r.verdict !== 'running';

/**
 * One run from two copies of its journal (one older, say a GET answer that crossed a newer event): the run's fields
 * from the finished copy, else the incoming one; each line the one that has got further (the incoming on a tie).
 */
export function mergeRun(old: ScenarioRun | undefined, incoming: ScenarioRun): ScenarioRun {
  if (!old) return incoming;
  const base = isDone(old) && !isDone(incoming) ? old : incoming;
  const olds = new Map(old.steps.map(s => [stepKey(s), s]));
  const steps = base.steps.map(s => {
    const o = olds.get(stepKey(s));
    return o && stepProgress(o) > stepProgress(s) ? o : s;
  });
  const keys = new Set(steps.map(stepKey));
  for (const s of old.steps) if (!keys.has(stepKey(s))) steps.push(s);
  return { ...base, steps };
}

/** One changed journal line into its run; a line the run does not have yet (a post-mortem snapshot) is added. */
export function mergeStep(run: ScenarioRun, step: ScenarioStepResult): ScenarioRun {
  const k = stepKey(step);
  const i = run.steps.findIndex(s => stepKey(s) === k);
  if (i >= 0 && stepProgress(run.steps[i]) > stepProgress(step)) return run;
  const steps = i >= 0 ? run.steps.map((s, j) => (j === i ? step : s)) : [...run.steps, step];
  const faultsHeld = steps.filter(isHeld).length;
  return { ...run, steps, faultsHeld: isDone(run) ? run.faultsHeld : faultsHeld };
}

function isHeld(s: ScenarioStepResult): boolean {
  return s.kind === 'fault' && (s.outcome === 'applied' && s.type !== 'vm.reboot' || s.outcome === 'revert-failed');
}

/** The runs, newest first, and for each the last time it changed in this browser (see nowMs). */
export interface RunsState {
  runs: ScenarioRun[];
  /** per run: the journal's latest time (ms from its start) and Date.now() when that was heard */
  clock: Record<string, { ms: number; at: number }>;
}

export const NO_RUNS: RunsState = { runs: [], clock: {} };

/** The latest time a journal reached (ms from the run's start). */
export function latestMs(run: ScenarioRun): number {
  let end = 0;
  for (const s of run.steps) for (const t of [s.scheduledMs, s.startedMs, s.finishedMs, s.revertedMs]) if (t != null && t > end) end = t;
  if (run.finishedAt) {
    const d = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
    if (Number.isFinite(d) && d > end) end = d;
  }
  return end;
}

/** Where a running run is now (ms from its start), from the browser's clock and when it last heard of it: no clock skew. */
export function nowMs(state: RunsState, run: ScenarioRun, now = Date.now()): number {
  const latest = latestMs(run);
  if (isDone(run)) return latest;
  const c = state.clock[run.id];
  return c ? Math.max(latest, c.ms + Math.max(0, now - c.at)) : latest;
}

function byStart(a: ScenarioRun, b: ScenarioRun): number {
  return b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id);
}

/** Runs (a list or one) as the server answered them, merged into the state. */
export function putRuns(state: RunsState, runs: ScenarioRun[], now = Date.now()): RunsState {
  const all = new Map(state.runs.map(r => [r.id, r]));
  const clock = { ...state.clock };
  for (const r of runs) {
    const merged = mergeRun(all.get(r.id), r);
    all.set(r.id, merged);
    const ms = latestMs(merged);
    if (!clock[r.id] || clock[r.id].ms < ms) clock[r.id] = { ms, at: now };
  }
  return { runs: [...all.values()].sort(byStart), clock };
}

/**
 * A scenario.* event into the state. Answers the state and, when the event names a run the state does not know
 * (its scenario.started was missed), that run's id: the caller GETs it.
 */
export function applyScenarioEvent(state: RunsState, e: ServerEvent, now = Date.now()): { state: RunsState; fetch: string | null } {
  if (!e.data || !e.name) return { state, fetch: null };
  if (e.type === 'scenario.started' || e.type === 'scenario.finished') {
    return { state: putRuns(state, [e.data as ScenarioRun], now), fetch: null };
  }
  if (e.type !== 'scenario.step') return { state, fetch: null };
  const step = e.data as ScenarioStepResult;
  const run = state.runs.find(r => r.id === e.name);
  if (!run) return { state, fetch: e.name };
  const merged = mergeStep(run, step);
  const ms = Math.max(latestMs(merged), state.clock[run.id]?.ms ?? 0);
  return {
    state: { runs: state.runs.map(r => (r.id === run.id ? merged : r)), clock: { ...state.clock, [run.id]: { ms, at: now } } },
    fetch: null,
  };
}

/** Whether an event's seq shows that events were missed (a gap) or the server restarted (seq went back). */
export function missedEvents(lastSeq: number, seq: number): boolean {
  return lastSeq > 0 && seq !== lastSeq + 1 && seq > 0;
}

// ---- the timeline -----------------------------------------------------------------------------

export type MarkStatus = 'pending' | 'running' | 'pass' | 'fail' | 'error' | 'skipped' | 'applied' | 'reverted' | 'failed' | 'revert-failed';

export interface TimelineItem {
  step: ScenarioStepResult;
  /** a bar for faults and repeated checks (until, every), a dot for a check run once and for what has not started */
  shape: 'bar' | 'dot';
  startMs: number;
  endMs: number;
  /** still growing (a held fault, a running repeated check) */
  open: boolean;
  status: MarkStatus;
  color: string;
  /** the sub-row in its row, so that no two items overlap (faults' lanes above the checks') */
  lane: number;
}

export interface TimelineRow { target: string; lanes: number; items: TimelineItem[] }

export interface Timeline { endMs: number; tickMs: number; ticks: number[]; rows: TimelineRow[] }

export const STATUS_COLORS: Record<MarkStatus, string> = {
  pending: '#bbb', running: '#2563eb', pass: '#2e9d4f', fail: '#d33', error: '#991b1b', skipped: '#999',
  applied: '#e07b00', reverted: '#b45309', failed: '#d33', 'revert-failed': '#991b1b',
};

function statusOf(s: ScenarioStepResult): MarkStatus {
  return (s.outcome in STATUS_COLORS ? s.outcome : 'error') as MarkStatus;
}

/** A round step for the axis: 1, 2 or 5 × 10^n ms, at least `raw`. */
export function niceStep(raw: number): number {
  for (let p = 1; ; p *= 10) for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
}

/** Where a journal line sits on the timeline at `now` (ms from the run's start), or null when it has no time yet. */
export function markOf(s: ScenarioStepResult, now: number): Omit<TimelineItem, 'lane'> | null {
  const start = s.startedMs ?? s.scheduledMs;
  if (start === null || start === undefined) return null;
  const status = statusOf(s);
  const base = { step: s, status, color: STATUS_COLORS[status] };
  if (s.startedMs === null) return { ...base, shape: 'dot', startMs: start, endMs: start, open: false };
  if (s.kind !== 'check') {
    let end: number;
    let open = false;
    if (s.revertedMs !== null) end = s.revertedMs;
    else if (s.outcome === 'running' || s.outcome === 'revert-failed' || (s.outcome === 'applied' && s.type !== 'vm.reboot')) { end = now; open = true; }
    else end = s.finishedMs ?? now;
    return { ...base, shape: 'bar', startMs: start, endMs: Math.max(start, end), open };
  }
  if (s.mode !== 'until' && s.mode !== 'every') return { ...base, shape: 'dot', startMs: start, endMs: start, open: false };
  const end = s.finishedMs ?? now;
  return { ...base, shape: 'bar', startMs: start, endMs: Math.max(start, end), open: s.finishedMs === null };
}

/**
 * The timeline of a run at `now` (ms from its start): one row per target, in the order the journal first names
 * them (a fault on each VM it acts on, a check on the VM it runs from), rows for steps not started yet included.
 * `minDotMs` is how wide a dot counts for not overlapping its neighbours.
 */
export function layoutTimeline(run: ScenarioRun, now: number, minDotMs?: number): Timeline {
  const endMs = Math.max(1000, now, latestMs(run));
  const dot = minDotMs ?? endMs / 60;
  const rows = new Map<string, TimelineRow>();
  const faults = new Map<string, Omit<TimelineItem, 'lane'>[]>(), checks = new Map<string, Omit<TimelineItem, 'lane'>[]>();
  for (const s of run.steps) {
    const on = s.targets.length === 0 ? ['(no target)'] : s.kind === 'check' ? [s.targets[0]] : [...new Set(s.targets)];
    for (const t of on) {
      if (!rows.has(t)) { rows.set(t, { target: t, lanes: 1, items: [] }); faults.set(t, []); checks.set(t, []); }
      const m = markOf(s, now);
      if (m) (s.kind === 'check' ? checks : faults).get(t)!.push(m);
    }
  }
  for (const row of rows.values()) {
    const f = lanes(faults.get(row.target)!, dot, 0);
    const c = lanes(checks.get(row.target)!, dot, f.count);
    row.items = [...f.items, ...c.items];
    row.lanes = Math.max(1, f.count + c.count);
  }
  const tickMs = niceStep(endMs / 8);
  const ticks: number[] = [];
  for (let t = 0; t <= endMs; t += tickMs) ticks.push(t);
  return { endMs, tickMs, ticks, rows: [...rows.values()] };
}

/** First fit: each item into the first lane whose last item ends before it starts. */
function lanes(items: Omit<TimelineItem, 'lane'>[], dot: number, first: number): { items: TimelineItem[]; count: number } {
  const ends: number[] = [];
  const out = [...items].sort((a, b) => a.startMs - b.startMs).map(m => {
    const end = Math.max(m.endMs, m.startMs + dot);
    let lane = ends.findIndex(e => e <= m.startMs);
    if (lane < 0) { lane = ends.length; ends.push(end); } else ends[lane] = end;
    return { ...m, lane: first + lane };
  });
  return { items: out, count: ends.length };
}

// ---- faults held on a topology (the live view's marks) -----------------------------------------

export type LinkFault = 'down' | 'impair' | 'partition';

export interface HeldFault { run: string; fault: string; type: string }

export interface FaultMarks {
  /** by "VM/NIC" (deployed VM name): the link faults on that NIC */
  nics: Record<string, { kind: LinkFault; fault: HeldFault }[]>;
  /** by deployed VM name: what is done to the VM itself (rebooting, stopped, killed, partitioned, node stopped) */
  vms: Record<string, { label: string; fault: HeldFault }[]>;
  /** by deployed VM name: faults on all of its links (a partition cuts the VM off on every NIC) */
  vmLinks: Record<string, { kind: LinkFault; fault: HeldFault }[]>;
}

/** The deployed VM a reference names (node/vm, the deployed name, or one of its IPv4 addresses), or null. */
export function resolveVmRef(ref: string, topo: Pick<Topology, 'nodes'>): string | null {
  const slash = ref.indexOf('/');
  for (const n of topo.nodes) {
    for (const v of n.vms) {
      if (slash >= 0 ? ref.slice(0, slash) === n.name && ref.slice(slash + 1) === v.vm : v.name === ref || v.ips.includes(ref)) return v.name;
    }
  }
  return null;
}

/** A fault step is held now: applied and not reverted (a reboot only while it reboots), or its revert failed. */
export function holdsNow(s: ScenarioStepResult): boolean {
  if (s.kind !== 'fault' || s.revertedMs !== null && s.outcome !== 'revert-failed') return false;
  if (s.type === 'vm.reboot') return s.outcome === 'running' && s.startedMs !== null;
  return s.outcome === 'applied' || s.outcome === 'revert-failed';
}

const VM_LABELS: Record<string, string> = { 'vm.reboot': 'rebooting', 'vm.stop': 'stopped', 'vm.kill': 'killed', 'node.stop': 'node stopped', partition: 'partitioned' };

/** What the runs on topology `topo` hold now, per NIC and per VM: derived from their journals (kept by the events). */
export function faultMarks(runs: ScenarioRun[], topo: Topology): FaultMarks {
  const out: FaultMarks = { nics: {}, vms: {}, vmLinks: {} };
  const push = <T>(m: Record<string, T[]>, k: string, v: T) => { (m[k] ??= []).push(v); };
  for (const run of runs) {
    if (run.topology !== topo.name) continue;
    for (const s of run.steps) {
      if (!holdsNow(s)) continue;
      const fault: HeldFault = { run: run.id, fault: s.name, type: s.type };
      const nic = typeof s.measured?.nic === 'string' ? s.measured.nic : null;
      if (s.type === 'link.down' || s.type === 'link.impair') {
        const kind: LinkFault = s.type === 'link.down' ? 'down' : 'impair';
        for (const ref of s.targets) {
          const vm = resolveVmRef(ref, topo);
          if (!vm) continue;
          if (nic) push(out.nics, `${vm}/${nic}`, { kind, fault });
          else push(out.vmLinks, vm, { kind, fault });
        }
      } else if (s.type === 'node.stop') {
        for (const n of topo.nodes.filter(n => s.targets.includes(n.name))) for (const v of n.vms) push(out.vms, v.name, { label: VM_LABELS[s.type], fault });
      } else {
        for (const ref of s.targets) {
          const vm = resolveVmRef(ref, topo);
          if (!vm) continue;
          push(out.vms, vm, { label: VM_LABELS[s.type] ?? s.type, fault });
          if (s.type === 'partition') push(out.vmLinks, vm, { kind: 'partition', fault });
        }
      }
    }
  }
  return out;
}

/** The link faults on one NIC: its own and those on all of the VM's links. */
export function nicFaults(m: FaultMarks, vm: string, nic: string): { kind: LinkFault; fault: HeldFault }[] {
  return [...(m.nics[`${vm}/${nic}`] ?? []), ...(m.vmLinks[vm] ?? [])];
}

// ---- the editor -------------------------------------------------------------------------------

/**
 * Problems from the text of an API error (a 400's detail lists every problem, one per line, as
 * FILE:LINE:COLUMN: PATH: MESSAGE (allowed: …)); a line without a position has line 0.
 */
export function problemsFromError(text: string): ScenarioProblem[] {
  return text.split('\n').map(l => l.trim()).filter(Boolean).map(l => {
    const m = /^(.*?):(\d+):(\d+): (?:([^\s:]+): )?(.*?)(?: \(allowed: (.*)\))?$/.exec(l);
    if (!m) return { file: '', line: 0, column: 0, path: '', message: l, allowed: null };
    return { file: m[1], line: Number(m[2]), column: Number(m[3]), path: m[4] ?? '', message: m[5], allowed: m[6] ?? null };
  });
}

/** The problems of each line (1-based). */
export function problemsByLine(problems: ScenarioProblem[]): Map<number, ScenarioProblem[]> {
  const out = new Map<number, ScenarioProblem[]>();
  for (const p of problems) if (p.line > 0) out.set(p.line, [...(out.get(p.line) ?? []), p]);
  return out;
}

/** The offset in `text` of line `line`, column `column` (both 1-based; clamped to the text). */
export function offsetOf(text: string, line: number, column = 1): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  const eol = text.indexOf('\n', off);
  return Math.min(off + Math.max(0, column - 1), eol < 0 ? text.length : eol);
}

/** Line and column (1-based) of an offset in `text`. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - nl };
}

/** key=value rows into vars (rows with an empty key are left out). */
export function parseVars(rows: { key: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key.trim()) out[r.key.trim()] = r.value;
  return out;
}

/** The `name:` of a scenario file (top level), for naming it before it is saved; null if there is none. */
export function nameInText(text: string): string | null {
  const m = /^name:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*(#.*)?$/m.exec(text);
  return m ? m[1] : null;
}

/** The `topology:` of a scenario file (top level), or null. */
export function topologyInText(text: string): string | null {
  const m = /^topology:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*(#.*)?$/m.exec(text);
  return m ? m[1] : null;
}

/** Milliseconds as the axis and tables write them: 0, 500ms, 2s, 1.5s, 1m30s. */
export function msText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms === 0) return '0';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1))}s`;
  const m = Math.floor(ms / 60_000), s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

/** A first scenario for a topology: its second VM's link cut for 2s, a ping from the first expected to fail meanwhile and to pass after. */
export function templateFor(topo: Pick<Topology, 'name' | 'nodes'> | undefined): string {
  const vms = topo?.nodes.flatMap(n => n.vms.map(v => `${n.name}/${v.vm}`)) ?? [];
  const a = vms[0] ?? 'node/vm1', b = vms[1] ?? vms[0] ?? 'node/vm2';
  return `apiVersion: vmctl/v1
kind: Scenario
name: ${topo ? `${topo.name}-link-cut`.slice(0, 63) : 'link-cut'}
topology: ${topo?.name ?? 'my-topology'}
steps:
  - {at: 0s, fault: {name: cut, duration: 2s, link.down: {vm: ${b}, nic: eth0}}}
  - {at: 500ms, check: {name: unreachable, expect: fail, ping: {from: ${a}, to: ${b}}}}
  - {at: 2500ms, check: {name: reachable-again, until: 10s, ping: {from: ${a}, to: ${b}}}}
`;
}
