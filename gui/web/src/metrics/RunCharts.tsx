// A scenario run's metrics under its timeline: CPU and NIC throughput of every VM the run touches, over the run's
// seconds (the timeline's axis), with each fault's interval shaded.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, type MetricSample, type ScenarioRun, type Topology } from '../api';
import { Chart, type SeriesSpec } from './Chart';
import { alignedColumns, cpuPercent, faultBands, nicKiBps, runVmNames, runWindow } from './runSeries';

const COLORS = ['#2a7ae2', '#c0392b', '#16a085', '#8e44ad', '#d9822b', '#27ae60', '#7f8c8d', '#e84393'];

export function RunCharts({ run, topo, now }: { run: ScenarioRun; topo: Topology | undefined; now: () => number }) {
  const names = useMemo(() => runVmNames(run, topo), [run, topo]);
  const [samples, setSamples] = useState<Record<string, MetricSample[]>>({});
  const [err, setErr] = useState<string | null>(null);
  const running = run.verdict === 'running';
  const key = names.join(',');
  // a running run's span grows between events (as its timeline's does)
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setTick(n => n + 1), 1000);
    return () => clearInterval(t);
  }, [running]);
  const endMs = Math.max(1000, now());

  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const window = runWindow(run.startedAt);
      const got: Record<string, MetricSample[]> = {};
      const errors: string[] = [];
      let interval = 2000;
      await Promise.all(names.map(async n => {
        try { const w = await api.vmMetrics(n, window); got[n] = w.samples; interval = w.intervalMs; } catch (e) { errors.push(`${n}: ${e instanceof ApiError ? e.error : String(e)}`); }
      }));
      if (stop) return;
      setSamples(got); setErr(errors.length ? errors.join('\n') : null);
      // while the run goes on, follow it; after, once more a round later (its last samples)
      if (running) timer = setTimeout(load, Math.max(1000, interval));
    };
    void load();
    return () => { stop = true; if (timer) clearTimeout(timer); };
    // names are described by key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.id, running, key]);

  const start = Date.parse(run.startedAt);
  const toSec = Math.max(1, endMs / 1000);
  const series: SeriesSpec[] = names.map((n, i) => ({ label: short(n, run.topology), stroke: COLORS[i % COLORS.length] }));
  const per = names.map(n => samples[n] ?? []);
  const cpu = useMemo(() => alignedColumns(per, start, cpuPercent, -2, toSec + 2), [samples, start, toSec]);
  const nic = useMemo(() => alignedColumns(per, start, nicKiBps, -2, toSec + 2), [samples, start, toSec]);
  const bands = faultBands(run, endMs).map(b => ({ from: b.from, to: b.to, label: b.name }));
  if (names.length === 0) return null;
  const range: [number, number] = [0, toSec];
  return (
    <div className="run-charts" data-testid="run-charts" data-vms={names.join(' ')}>
      <h4>Metrics of the run's VMs (faults shaded)</h4>
      {err && <pre className="error" data-testid="run-charts-error">{err}</pre>}
      <div className="chart-row">
        <Chart key={`cpu-${key}`} title="CPU" unit="% of a core" xLabel="s since the run started" series={series} data={cpu} testid="run-chart-cpu" shade={bands} xRange={range} width={560} />
        <Chart key={`nic-${key}`} title="NIC rx+tx" unit="KiB/s" xLabel="s since the run started" series={series} data={nic} testid="run-chart-nic" shade={bands} xRange={range} width={560} />
      </div>
    </div>
  );
}

function short(vm: string, topology: string): string {
  return vm.startsWith(topology + '-') ? vm.slice(topology.length + 1) : vm;
}
