// The VM page's charts: CPU, memory and NIC throughput of the last window, refreshed every sampling interval.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, type MetricsWindow } from '../api';
import { Chart } from './Chart';
import { cpuColumns, memoryColumns, nicColumns } from './series';

const CPU = [{ label: 'cpu %', stroke: '#2a7ae2', fill: 'rgba(42,122,226,0.12)' }];
const MEM = [{ label: 'rss', stroke: '#d9822b' }, { label: 'pss', stroke: '#8e44ad' }, { label: 'guest available', stroke: '#27ae60' }];
const NIC = [{ label: 'rx', stroke: '#16a085' }, { label: 'tx', stroke: '#c0392b' }];

export function VmCharts({ id, window = '10m' }: { id: string; window?: string }) {
  const [w, setW] = useState<MetricsWindow | null>(null);
  const [err, setErr] = useState<string | null>(null);

  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const next = await api.vmMetrics(id, window);
        if (stop) return;
        setW(next); setErr(null);
        timer = setTimeout(load, Math.max(1000, next.intervalMs));
      } catch (e) {
        if (stop) return;
        setErr(e instanceof ApiError ? e.text : String(e));
        timer = setTimeout(load, 5000);
      }
    };
    void load();
    return () => { stop = true; if (timer) clearTimeout(timer); };
  }, [id, window]);

  const samples = w?.samples ?? [];
  const cpu = useMemo(() => cpuColumns(samples), [w]);
  const mem = useMemo(() => memoryColumns(samples), [w]);
  const nic = useMemo(() => nicColumns(samples), [w]);

  return (
    <div className="vm-charts" data-testid="vm-charts">
      <h4>Metrics (last {window}, every {w ? w.intervalMs / 1000 : '…'} s)</h4>
      {err && <pre className="error">{err}</pre>}
      {w && samples.length === 0 && <div data-testid="vm-charts-empty">no samples yet (a VM is sampled while it runs)</div>}
      <div className="chart-row">
        <Chart title="CPU" unit="% of a core" series={CPU} data={cpu} testid="chart-cpu" />
        <Chart title="Memory" unit="MiB" series={MEM} data={mem} testid="chart-memory" />
        <Chart title="NIC throughput" unit="KiB/s" series={NIC} data={nic} testid="chart-nic" />
      </div>
    </div>
  );
}
