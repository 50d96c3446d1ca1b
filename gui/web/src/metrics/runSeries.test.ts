import { describe, expect, it } from 'vitest';
import type { MetricSample, ScenarioRun, ScenarioStepResult } from '../api';
import { alignedColumns, cpuPercent, faultBands, nicKiBps, runVmNames, runWindow } from './runSeries';

const step = (p: Partial<ScenarioStepResult>): ScenarioStepResult => ({
  index: 0, phase: 'steps', kind: 'fault', name: 'cut', type: 'link.down', targets: ['main/b'], scheduledMs: 0, startedMs: 100,
  finishedMs: 150, revertedMs: null, outcome: 'applied', expect: null, mode: null, message: null, measured: {}, attempts: 1, operations: [], line: 1, ...p,
});
const run = (steps: ScenarioStepResult[]): ScenarioRun => ({
  id: 'r1', scenario: 's', topology: 'lab', verdict: 'running', startedAt: '2026-12-01T10:00:00.000Z', finishedAt: null,
  error: null, vars: {}, faultsHeld: 1, operation: 'op', steps,
});
const topo = { nodes: [
  { topology: 'lab', name: 'main', state: 'RUNNING' as const, vms: [
    { name: 'lab-main-a', vm: 'a', role: null, state: 'RUNNING' as const, ips: ['198.18.9.10'], error: null },
    { name: 'lab-main-b', vm: 'b', role: null, state: 'RUNNING' as const, ips: ['198.18.9.11'], error: null }] },
  { topology: 'lab', name: 'db', state: 'RUNNING' as const, vms: [{ name: 'lab-db-pg', vm: 'pg', role: null, state: 'RUNNING' as const, ips: [], error: null }] },
] };
const nic = (rx: number, tx: number) => ({ rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, rxDrops: 0, txDrops: 0, rxBytesPerSec: rx, txBytesPerSec: tx });
const sample = (t: number, cpu: number, rx = 0): MetricSample => ({ t, cpu, cpuSeconds: 0, rss: 0, pss: 0, nics: { eth0: nic(rx, rx) }, guest: null });

describe('a run\'s metrics', () => {
  it('names the VMs its steps touch, a stopped node\'s VMs, without repeats; node/vm when the topology is gone', () => {
    const r = run([step({}), step({ kind: 'check', type: 'ping', targets: ['main/a', '198.18.9.11'] }), step({ type: 'node.stop', targets: ['db'] })]);
    expect(runVmNames(r, topo)).toEqual(['lab-main-b', 'lab-main-a', 'lab-db-pg']);
    expect(runVmNames(r, undefined)).toEqual(['lab-main-b', 'lab-main-a']);
  });

  it('shades each fault from applied to reverted, a held one up to now', () => {
    const r = run([step({ revertedMs: 5100 }), step({ name: 'slow', type: 'link.impair', startedMs: 2000 }), step({ name: 'later', startedMs: null })]);
    expect(faultBands(r, 7000)).toEqual([
      { name: 'cut', type: 'link.down', from: 0.1, to: 5.1, open: false },
      { name: 'slow', type: 'link.impair', from: 2, to: 7, open: true },
    ]);
    expect(faultBands(run([step({ type: 'vm.reboot', finishedMs: 3000, outcome: 'applied' })]), 9000)[0]).toMatchObject({ to: 3, open: false });
  });

  it('aligns the VMs\' samples on the run\'s seconds, null where one has none, within the run', () => {
    const start = Date.parse('2026-12-01T10:00:00.000Z');
    const a = [sample(start - 4000, 0.9), sample(start + 2000, 0.1), sample(start + 4000, 0.2)];
    const b = [sample(start + 2000, 0.5, 1024), sample(start + 3000, 0.25, 512)];
    expect(alignedColumns([a, b], start, cpuPercent, -2, 10)).toEqual([[2, 3, 4], [10, null, 20], [50, 25, null]]);
    expect(alignedColumns([b], start, nicKiBps, 0, 10)).toEqual([[2, 3], [2, 1]]);
  });

  it('asks for a window back to the run\'s start, at most the 30 minutes kept', () => {
    const start = '2026-12-01T10:00:00.000Z';
    expect(runWindow(start, Date.parse(start) + 30_000)).toBe('2m');
    expect(runWindow(start, Date.parse(start) + 3 * 3600_000)).toBe('30m');
  });
});
