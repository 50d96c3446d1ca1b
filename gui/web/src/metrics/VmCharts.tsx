// The charts of a VM (its page) and of a node (its page: the sums over its VMs): CPU, memory and NIC throughput of
// the last window, refreshed every sampling interval.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, type MetricsWindow } from '../api';
import { Chart } from './Chart';
import { cpuColumns, memoryColumns, nicColumns } from './series';

export const CPU = [{ label: 'cpu %', stroke: '#2a7ae2', fill: 'rgba(42,122,226,0.12)' }];
const MEM = [{ label: 'rss', stroke: '#d9822b' }, { label: 'pss', stroke: '#8e44ad' }, { label: 'guest available', stroke: '#27ae60' }];
const NIC = [{ label: 'rx', stroke: '#16a085' }, { label: 'tx', stroke: '#c0392b' }];

/** The window `load` answers, loaded again every sampling interval (every 5 s after an error) while mounted. */
export function useMetricsWindow(load: () => Promise<MetricsWindow>, key: string): { w: MetricsWindow | null; err: string | null } {
  const [w, setW] = useState<MetricsWindow | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await load();
        if (stop) return;
        setW(next); setErr(null);
        timer = setTimeout(tick, Math.max(1000, next.intervalMs));
      } catch (e) {
        if (stop) return;
        setErr(e instanceof ApiError ? e.text : String(e));
        timer = setTimeout(tick, 5000);
      }
    };
    void tick();
    return () => { stop = true; if (timer) clearTimeout(timer); };
    // load is described by key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return { w, err };
}

function MetricCharts({ w, err, window, prefix, what }: { w: MetricsWindow | null; err: string | null; window: string; prefix: string; what: string }) {
  const samples = w?.samples ?? [];
  const cpu = useMemo(() => cpuColumns(samples), [w]);
  const mem = useMemo(() => memoryColumns(samples), [w]);
  const nic = useMemo(() => nicColumns(samples), [w]);
  return (
    <div className="vm-charts" data-testid={`${prefix}-charts`}>
      <h4>Metrics{what} (last {window}, every {w ? w.intervalMs / 1000 : '…'} s)</h4>
      {err && <pre className="error">{err}</pre>}
      {w && samples.length === 0 && <div data-testid={`${prefix}-charts-empty`}>no samples yet (a VM is sampled while it runs)</div>}
      <div className="chart-row">
        <Chart title="CPU" unit="% of a core" series={CPU} data={cpu} testid={`${prefix === 'vm' ? '' : prefix + '-'}chart-cpu`} />
        <Chart title="Memory" unit="MiB" series={MEM} data={mem} testid={`${prefix === 'vm' ? '' : prefix + '-'}chart-memory`} />
        <Chart title="NIC throughput" unit="KiB/s" series={NIC} data={nic} testid={`${prefix === 'vm' ? '' : prefix + '-'}chart-nic`} />
      </div>
    </div>
  );
}

export function VmCharts({ id, window = '10m' }: { id: string; window?: string }) {
  const { w, err } = useMetricsWindow(() => api.vmMetrics(id, window), `vm ${id} ${window}`);
  return <MetricCharts w={w} err={err} window={window} prefix="vm" what="" />;
}

/** A node's charts: per sampling round, the sums over its VMs. */
export function NodeCharts({ topology, node, window = '10m' }: { topology: string; node: string; window?: string }) {
  const { w, err } = useMetricsWindow(() => api.nodeMetrics(topology, node, window), `node ${topology}/${node} ${window}`);
  return <MetricCharts w={w} err={err} window={window} prefix="node" what=" (sums over the node's VMs)" />;
}
