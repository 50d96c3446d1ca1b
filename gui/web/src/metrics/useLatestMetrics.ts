// The dashboard's view of the metrics: the latest sample of every VM (polled), with a short CPU history per VM for
// its sparkline, kept in the browser.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { pushBounded } from './series';

export type CpuHistory = Record<string, { t: number; v: number }[]>;

export function useCpuHistory(intervalMs = 2000): CpuHistory {
  const [hist, setHist] = useState<CpuHistory>({});
  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const latest = await api.latestMetrics();
        if (stop) return;
        setHist(h => {
          const next: CpuHistory = {};
          for (const l of latest) {
            const before = h[l.id] ?? [];
            next[l.id] = l.sample && l.state === 'RUNNING' ? pushBounded(before, l.sample.t / 1000, l.sample.cpu * 100) : before;
          }
          return next;
        });
      } catch { /* the server restarts: the next tick tries again */ }
    };
    void tick();
    const timer = setInterval(tick, intervalMs);
    return () => { stop = true; clearInterval(timer); };
  }, [intervalMs]);
  return hist;
}
