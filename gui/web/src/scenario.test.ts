import { describe, expect, it } from 'vitest';
import type { ScenarioRun, ScenarioStepResult, ServerEvent, Topology } from './api';
import {
  applyScenarioEvent, faultMarks, holdsNow, latestMs, layoutTimeline, mergeRun, missedEvents, msText, nicFaults, niceStep, NO_RUNS,
  nowMs, offsetOf, positionOf, problemsByLine, problemsFromError, putRuns, resolveVmRef, templateFor,
} from './scenario';

const step = (p: Partial<ScenarioStepResult> & Pick<ScenarioStepResult, 'name'>): ScenarioStepResult => ({
  index: 0, phase: 'steps', kind: 'check', type: 'ping', targets: ['main/a', 'main/b'], scheduledMs: null, startedMs: null,
  finishedMs: null, revertedMs: null, outcome: 'pending', expect: 'pass', mode: 'once', message: null, measured: {}, attempts: 0,
  operations: [], line: 0, ...p,
});

const cut = (p: Partial<ScenarioStepResult> = {}) =>
  step({ name: 'cut', index: 0, kind: 'fault', type: 'link.down', targets: ['main/b'], expect: null, mode: null, ...p });
const unreachable = (p: Partial<ScenarioStepResult> = {}) => step({ name: 'unreachable', index: 1, expect: 'fail', ...p });
const back = (p: Partial<ScenarioStepResult> = {}) => step({ name: 'back', index: 2, mode: 'until', ...p });

const run = (steps: ScenarioStepResult[], p: Partial<ScenarioRun> = {}): ScenarioRun => ({
  id: 'run-1', scenario: 'gui-cut', topology: 'lab', verdict: 'running', startedAt: '2026-12-01T10:00:00Z', finishedAt: null,
  error: null, vars: {}, faultsHeld: 0, operation: 'op-1', steps, ...p,
});

const event = (type: ServerEvent['type'], data: ScenarioRun | ScenarioStepResult, seq = 1, name = 'run-1'): ServerEvent => ({
  seq, type, vmId: null, name, from: null, state: null, message: null, operation: 'op-1', at: '2026-12-01T10:00:00Z', data,
});

const topo: Topology = {
  name: 'lab', file: null, appliedAt: null, state: 'RUNNING', networks: ['net1'], routers: [], spec: null,
  nodes: [{ topology: 'lab', name: 'main', state: 'RUNNING', vms: [
    { name: 'lab-main-a', vm: 'a', role: null, state: 'RUNNING', ips: ['198.18.9.10'], error: null },
    { name: 'lab-main-b', vm: 'b', role: null, state: 'RUNNING', ips: ['198.18.9.11'], error: null },
  ] }],
};

describe('the runs store', () => {
  it('keeps a run from scenario.started and each scenario.step', () => {
    let s = applyScenarioEvent(NO_RUNS, event('scenario.started', run([cut(), unreachable(), back()])), 1000).state;
    s = applyScenarioEvent(s, event('scenario.step', cut({ scheduledMs: 0, startedMs: 3, outcome: 'running' }), 2), 1010).state;
    s = applyScenarioEvent(s, event('scenario.step', cut({ scheduledMs: 0, startedMs: 3, finishedMs: 40, outcome: 'applied' }), 3), 1050).state;
    const r = s.runs[0];
    expect(r.steps.map(x => x.outcome)).toEqual(['applied', 'pending', 'pending']);
    expect(r.faultsHeld).toBe(1);
    expect(s.clock['run-1']).toEqual({ ms: 40, at: 1050 });
  });

  it('asks for a run whose start it missed', () => {
    const r = applyScenarioEvent(NO_RUNS, event('scenario.step', cut({ outcome: 'running', startedMs: 1 }), 5, 'run-9'));
    expect(r.fetch).toBe('run-9');
    expect(r.state).toBe(NO_RUNS);
  });

  it('keeps the newer line when an older copy of the journal arrives later (a GET that crossed an event)', () => {
    let s = putRuns(NO_RUNS, [run([cut({ startedMs: 3, finishedMs: 40, outcome: 'applied' }), unreachable()])]);
    s = putRuns(s, [run([cut({ startedMs: 3, outcome: 'running' }), unreachable({ startedMs: 500, outcome: 'running' })])]);
    expect(s.runs[0].steps.map(x => x.outcome)).toEqual(['applied', 'running']);
    // an older step event does not undo a newer one either
    s = applyScenarioEvent(s, event('scenario.step', cut({ startedMs: 3, outcome: 'running' }))).state;
    expect(s.runs[0].steps[0].outcome).toBe('applied');
  });

  it('takes the finished copy of a run over a running one, whatever the order', () => {
    const done = run([cut({ startedMs: 3, finishedMs: 40, revertedMs: 2000, outcome: 'reverted' })], { verdict: 'pass', finishedAt: '2026-12-01T10:00:05Z' });
    const s = putRuns(putRuns(NO_RUNS, [done]), [run([cut({ startedMs: 3, outcome: 'running' })])]);
    expect(s.runs[0].verdict).toBe('pass');
    expect(s.runs[0].steps[0].outcome).toBe('reverted');
  });

  it('lists runs newest first', () => {
    const s = putRuns(NO_RUNS, [run([], { id: 'a', startedAt: '2026-12-01T10:00:00Z' }), run([], { id: 'b', startedAt: '2026-12-01T11:00:00Z' })]);
    expect(s.runs.map(r => r.id)).toEqual(['b', 'a']);
  });

  it('sees missed events in a gap of seq (and a server restart)', () => {
    expect(missedEvents(0, 17)).toBe(false);
    expect(missedEvents(16, 17)).toBe(false);
    expect(missedEvents(16, 19)).toBe(true);
    expect(missedEvents(16, 1)).toBe(true);
  });

  it('moves a running run on by the browser clock from when it last heard of it, not by the server clock', () => {
    const r = run([cut({ startedMs: 3, finishedMs: 40, outcome: 'applied' })], { startedAt: '1999-01-01T00:00:00Z' });
    const s = putRuns(NO_RUNS, [r], 10_000);
    expect(nowMs(s, s.runs[0], 10_500)).toBe(540);
    expect(nowMs(s, { ...s.runs[0], verdict: 'pass' }, 99_000)).toBe(latestMs(s.runs[0]));
  });
});

describe('the timeline', () => {
  const r = run([
    cut({ scheduledMs: 0, startedMs: 5, finishedMs: 60, revertedMs: 2050, outcome: 'reverted' }),
    unreachable({ scheduledMs: 500, startedMs: 502, finishedMs: 1600, outcome: 'pass' }),
    back({ scheduledMs: 2500, startedMs: 2500, finishedMs: 3400, outcome: 'pass' }),
    step({ name: 'later', index: 3, targets: ['main/b', 'main/a'] }),
  ], { verdict: 'pass', finishedAt: '2026-12-01T10:00:03.500Z' });

  it('has one row per target, in the order the journal names them, a fault on its VM and a check on its from', () => {
    const tl = layoutTimeline(r, 0);
    expect(tl.rows.map(x => x.target)).toEqual(['main/b', 'main/a']);
    expect(tl.rows[0].items.map(i => i.step.name)).toEqual(['cut']);
    expect(tl.rows[1].items.map(i => i.step.name)).toEqual(['unreachable', 'back']);
    expect(tl.endMs).toBe(3500);
    expect(tl.ticks).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
  });

  it('draws faults as bars until reverted, checks once as dots and until/every as bars, coloured by outcome', () => {
    const tl = layoutTimeline(r, 0);
    const [f] = tl.rows[0].items;
    expect([f.shape, f.startMs, f.endMs, f.open, f.status]).toEqual(['bar', 5, 2050, false, 'reverted']);
    const [once, until] = tl.rows[1].items;
    expect([once.shape, once.startMs, once.color]).toEqual(['dot', 502, '#2e9d4f']);
    expect([until.shape, until.startMs, until.endMs]).toEqual(['bar', 2500, 3400]);
  });

  it('grows a held fault and a running repeated check up to now', () => {
    const live = run([cut({ startedMs: 5, finishedMs: 60, outcome: 'applied' }), back({ startedMs: 100, outcome: 'running' }),
      unreachable({ outcome: 'fail', startedMs: 10, finishedMs: 20 }), step({ name: 'skipped', index: 4, outcome: 'skipped', scheduledMs: 900 })]);
    const tl = layoutTimeline(live, 1234);
    const all = tl.rows.flatMap(x => x.items);
    const byName = (n: string) => all.find(i => i.step.name === n)!;
    expect([byName('cut').endMs, byName('cut').open, byName('cut').color]).toEqual([1234, true, '#e07b00']);
    expect([byName('back').endMs, byName('back').open, byName('back').color]).toEqual([1234, true, '#2563eb']);
    expect(byName('unreachable').color).toBe('#d33');
    expect([byName('skipped').shape, byName('skipped').startMs, byName('skipped').color]).toEqual(['dot', 900, '#999']);
  });

  it('puts overlapping marks of a row on separate lanes, faults above checks', () => {
    const two = run([
      cut({ startedMs: 0, revertedMs: 2000, outcome: 'reverted', targets: ['main/a'] }),
      cut({ name: 'slow', index: 1, type: 'link.impair', startedMs: 500, revertedMs: 1500, outcome: 'reverted', targets: ['main/a'] }),
      back({ startedMs: 100, finishedMs: 200, outcome: 'pass' }),
    ], { verdict: 'pass' });
    const [row] = layoutTimeline(two, 0).rows;
    expect(row.lanes).toBe(3);
    expect(row.items.map(i => [i.step.name, i.lane])).toEqual([['cut', 0], ['slow', 1], ['back', 2]]);
  });

  it('rounds the axis step', () => {
    expect([niceStep(0.3), niceStep(130), niceStep(400), niceStep(2001)]).toEqual([1, 200, 500, 5000]);
    expect([msText(0), msText(500), msText(2000), msText(1500), msText(90_000)]).toEqual(['0', '500ms', '2s', '1.5s', '1m30s']);
  });
});

describe('faults a run holds (the live view marks them)', () => {
  it('marks a cut NIC while the fault is applied and clears it when reverted', () => {
    const applied = cut({ startedMs: 5, finishedMs: 60, outcome: 'applied', measured: { nic: 'eth0' } });
    const m = faultMarks([run([applied])], topo);
    expect(nicFaults(m, 'lab-main-b', 'eth0').map(f => [f.kind, f.fault.fault])).toEqual([['down', 'cut']]);
    expect(nicFaults(m, 'lab-main-a', 'eth0')).toEqual([]);
    const reverted = faultMarks([run([{ ...applied, revertedMs: 2000, outcome: 'reverted' }])], topo);
    expect(nicFaults(reverted, 'lab-main-b', 'eth0')).toEqual([]);
  });

  it('marks an impaired link, partitioned VMs on all their links, and a rebooting, stopped or killed VM', () => {
    const m = faultMarks([run([
      cut({ name: 'slow', type: 'link.impair', targets: ['lab-main-a'], startedMs: 1, outcome: 'applied', measured: { nic: 'eth1', delay: '50ms' } }),
      cut({ name: 'split', index: 1, type: 'partition', targets: ['main/a', '198.18.9.11'], startedMs: 1, outcome: 'applied' }),
      cut({ name: 'boot', index: 2, type: 'vm.reboot', targets: ['main/b'], startedMs: 1, outcome: 'running' }),
      cut({ name: 'halt', index: 3, type: 'vm.stop', targets: ['main/a'], startedMs: 1, outcome: 'revert-failed', revertedMs: 900 }),
    ])], topo);
    expect(nicFaults(m, 'lab-main-a', 'eth1').map(f => f.kind)).toEqual(['impair', 'partition']);
    expect(nicFaults(m, 'lab-main-b', 'eth0').map(f => f.kind)).toEqual(['partition']);
    expect(m.vms['lab-main-a'].map(v => v.label)).toEqual(['partitioned', 'stopped']);
    expect(m.vms['lab-main-b'].map(v => v.label)).toEqual(['partitioned', 'rebooting']);
  });

  it('a reboot is held only while it reboots; a node stop marks every VM of the node; other topologies are not marked', () => {
    expect(holdsNow(cut({ type: 'vm.reboot', startedMs: 1, finishedMs: 900, outcome: 'applied' }))).toBe(false);
    const m = faultMarks([run([cut({ name: 'down', type: 'node.stop', targets: ['main'], startedMs: 1, outcome: 'applied' })])], topo);
    expect(Object.keys(m.vms)).toEqual(['lab-main-a', 'lab-main-b']);
    expect(faultMarks([run([cut({ startedMs: 1, outcome: 'applied', measured: { nic: 'eth0' } })], { topology: 'other' })], topo).nics).toEqual({});
  });

  it('resolves VM references as the scenario file writes them', () => {
    expect(resolveVmRef('main/b', topo)).toBe('lab-main-b');
    expect(resolveVmRef('lab-main-a', topo)).toBe('lab-main-a');
    expect(resolveVmRef('198.18.9.11', topo)).toBe('lab-main-b');
    expect(resolveVmRef('main/zz', topo)).toBeNull();
  });
});

describe('the editor', () => {
  it('reads the problems of a refused file at their lines', () => {
    const ps = problemsFromError(`scenario file gui-cut.yaml is invalid
gui-cut.yaml:7:43: steps[1].check.pign: unknown field 'pign' in a check (did you mean 'ping'?) (allowed: name, expect, ping)
gui-cut.yaml:8:10: steps[2].at: '2500' has no unit (allowed: a time from the run's start, 0s..24h, e.g. 500ms)`);
    expect(ps.map(p => [p.line, p.column, p.path])).toEqual([[0, 0, ''], [7, 43, 'steps[1].check.pign'], [8, 10, 'steps[2].at']]);
    expect(ps[1].message).toBe("unknown field 'pign' in a check (did you mean 'ping'?)");
    expect(ps[1].allowed).toBe('name, expect, ping');
    expect([...problemsByLine(ps).keys()]).toEqual([7, 8]);
  });

  it('maps lines and columns to offsets and back', () => {
    const t = 'ab\ncdef\n\ng';
    expect(offsetOf(t, 2, 3)).toBe(5);
    expect(offsetOf(t, 2, 99)).toBe(7);
    expect(offsetOf(t, 9)).toBe(t.length);
    expect(positionOf(t, 5)).toEqual({ line: 2, column: 3 });
    expect(positionOf(t, 0)).toEqual({ line: 1, column: 1 });
  });

  it('starts a new scenario from the topology: a cut of its second VM seen from its first', () => {
    const t = templateFor(topo);
    expect(t).toContain('topology: lab');
    expect(t).toContain('link.down: {vm: main/b, nic: eth0}');
    expect(t).toContain('ping: {from: main/a, to: main/b}');
  });
});
