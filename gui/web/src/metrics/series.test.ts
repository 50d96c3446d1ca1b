import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../api';
import { cpuColumns, memoryColumns, nicColumns, pushBounded } from './series';

const nic = (rx: number, tx: number) => ({ rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, rxDrops: 0, txDrops: 0, rxBytesPerSec: rx, txBytesPerSec: tx });
const samples: MetricSample[] = [
  { t: 2000, cpu: 0.25, cpuSeconds: 1, rss: 100 * 1024 * 1024, pss: 50 * 1024 * 1024, nics: { eth0: nic(1024, 2048) }, guest: null },
  { t: 4000, cpu: 0.5, cpuSeconds: 2, rss: 101 * 1024 * 1024, pss: 51 * 1024 * 1024, nics: { eth0: nic(1024, 0), eth1: nic(1024, 0) },
    guest: { t: 3900, memTotal: 128 * 1024 * 1024, memAvailable: 90 * 1024 * 1024, load1: 0.1, uptime: 10 } },
];

describe('metric columns', () => {
  it('cpu in percent, x in seconds', () => {
    expect(cpuColumns(samples)).toEqual([[2, 4], [25, 50]]);
  });
  it('memory in MiB, the guest null until read', () => {
    expect(memoryColumns(samples)).toEqual([[2, 4], [100, 101], [50, 51], [null, 90]]);
  });
  it('NIC KiB/s summed over NICs', () => {
    expect(nicColumns(samples)).toEqual([[2, 4], [1, 2], [2, 0]]);
  });
  it('bounded history ignores a repeated round', () => {
    let h = pushBounded([], 1, 1, 2);
    h = pushBounded(h, 1, 5, 2);
    h = pushBounded(h, 2, 2, 2);
    h = pushBounded(h, 3, 3, 2);
    expect(h).toEqual([{ t: 2, v: 2 }, { t: 3, v: 3 }]);
  });
});
