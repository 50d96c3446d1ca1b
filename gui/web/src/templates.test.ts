import { describe, expect, it } from 'vitest';
import { timingSegments } from './Templates';

describe('timingSegments', () => {
  it('draws each Server-Timing part in order as its share of the parts, total left out', () => {
    const s = timingSegments({ total: 400, upstream: 100, queue: 0, segment: 50, restore: 200, ready: 50 });
    expect(s.map(p => p.name)).toEqual(['segment', 'restore', 'ready', 'upstream']);
    expect(s.map(p => Math.round(p.pct))).toEqual([13, 50, 13, 25]);
    expect(s.reduce((a, p) => a + p.pct, 0)).toBeCloseTo(100);
  });
  it('a pooled request shows resume instead of segment and restore', () => {
    const s = timingSegments({ queue: 1, segment: 0, restore: 0, resume: 2, ready: 40, upstream: 100, total: 143 });
    expect(s.map(p => p.name)).toEqual(['queue', 'resume', 'ready', 'upstream']);
  });
  it('no timings: no segments', () => {
    expect(timingSegments({})).toEqual([]);
  });
});
