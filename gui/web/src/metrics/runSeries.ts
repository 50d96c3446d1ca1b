// A scenario run's metrics: which VMs it touches, its faults' intervals, and the VMs' samples as uPlot columns on the
// run's own time axis (seconds since the run started, as its timeline). Pure; unit-tested in runSeries.test.ts.
import type { MetricSample, ScenarioRun, Topology } from '../api';
import { resolveVmRef } from '../scenario';
import type { Columns } from './series';

/** The deployed VMs a run's steps name (node/vm, a name, an address; a node.stop's node: its VMs), in order of first mention. */
export function runVmNames(run: ScenarioRun, topo: Pick<Topology, 'nodes'> | undefined): string[] {
  const out: string[] = [];
  const add = (n: string | null) => { if (n && !out.includes(n)) out.push(n); };
  for (const s of run.steps) {
    for (const ref of s.targets) {
      if (s.type === 'node.stop' || s.type === 'node.restore' || s.type === 'node.snapshot') {
        const node = topo?.nodes.find(n => n.name === ref);
        if (node) { node.vms.forEach(v => add(v.name)); continue; }
      }
      if (topo) { add(resolveVmRef(ref, topo)); continue; }
      // the topology is gone: node/vm names its deployed VM all the same
      const slash = ref.indexOf('/');
      if (slash > 0) add(`${run.topology}-${ref.slice(0, slash)}-${ref.slice(slash + 1)}`);
    }
  }
  return out;
}

export interface Band { name: string; type: string; from: number; to: number; open: boolean }

/** Each fault's interval in seconds since the run started: from applied to reverted (still held: to `nowMs`). */
export function faultBands(run: ScenarioRun, nowMs: number): Band[] {
  return run.steps.filter(s => s.kind === 'fault' && s.startedMs !== null).map(s => {
    const end = s.revertedMs ?? (s.type === 'vm.reboot' || s.outcome === 'failed' || s.outcome === 'skipped' ? s.finishedMs : null);
    return { name: s.name, type: s.type, from: s.startedMs! / 1000, to: (end ?? Math.max(nowMs, s.startedMs!)) / 1000, open: end === null };
  });
}

/** The metrics window that reaches back to the run's start (a minute more; at most the 30 min the server keeps). */
export function runWindow(startedAt: string, now = Date.now()): string {
  const min = Math.ceil((now - Date.parse(startedAt)) / 60000) + 1;
  return `${Math.max(1, Math.min(30, min))}m`;
}

/**
 * One column per VM of `value` over the union of their sampling times, in seconds since `startMs` (null where a VM has
 * no sample at that time); only samples from `fromSec` to `toSec`.
 */
export function alignedColumns(perVm: MetricSample[][], startMs: number, value: (s: MetricSample) => number, fromSec: number, toSec: number): Columns {
  const x = (s: MetricSample) => Math.round((s.t - startMs) / 10) / 100;
  const keep = perVm.map(ss => ss.filter(s => x(s) >= fromSec && x(s) <= toSec));
  const times = [...new Set(keep.flatMap(ss => ss.map(x)))].sort((a, b) => a - b);
  const cols = keep.map(ss => {
    const at = new Map(ss.map(s => [x(s), value(s)] as const));
    return times.map(t => (at.has(t) ? Math.round(at.get(t)! * 100) / 100 : null));
  });
  return [times, ...cols];
}

export const cpuPercent = (s: MetricSample) => s.cpu * 100;
/** Received plus sent KiB/s over all of the VM's NICs. */
export const nicKiBps = (s: MetricSample) => Object.values(s.nics).reduce((a, n) => a + n.rxBytesPerSec + n.txBytesPerSec, 0) / 1024;
