// Samples of the metrics API → the column arrays uPlot draws (x in seconds, one array per series). Pure functions,
// unit-tested in series.test.ts.
import type { MetricSample } from '../api';

export type Columns = [number[], ...(number | null)[][]];

const MiB = 1024 * 1024;

/** CPU of the QEMU process in percent of one core. */
export function cpuColumns(samples: MetricSample[]): Columns {
  return [samples.map(s => s.t / 1000), samples.map(s => round(s.cpu * 100))];
}

/** RSS, PSS and the guest's MemAvailable in MiB (null where the guest has not been read yet). */
export function memoryColumns(samples: MetricSample[]): Columns {
  return [
    samples.map(s => s.t / 1000),
    samples.map(s => round(s.rss / MiB)),
    samples.map(s => round(s.pss / MiB)),
    samples.map(s => (s.guest?.memAvailable == null ? null : round(s.guest.memAvailable / MiB))),
  ];
}

/** Received and sent KiB/s, summed over the VM's NICs. */
export function nicColumns(samples: MetricSample[]): Columns {
  const sum = (s: MetricSample, k: 'rxBytesPerSec' | 'txBytesPerSec') =>
    round(Object.values(s.nics).reduce((a, n) => a + n[k], 0) / 1024);
  return [samples.map(s => s.t / 1000), samples.map(s => sum(s, 'rxBytesPerSec')), samples.map(s => sum(s, 'txBytesPerSec'))];
}

/** Appends one value to a bounded history (the dashboard's sparklines keep the last `keep` samples). */
export function pushBounded(history: { t: number; v: number }[], t: number, v: number, keep = 90): { t: number; v: number }[] {
  if (history.length > 0 && history[history.length - 1].t >= t) return history; // the same round again
  const next = history.concat({ t, v });
  return next.length > keep ? next.slice(next.length - keep) : next;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
