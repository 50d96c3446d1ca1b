// A uPlot time-series chart as a React component: created once per mount, fed new columns with setData.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from './series';

export interface SeriesSpec { label: string; stroke: string; fill?: string }

/** A span of x shaded behind the series (a scenario's fault while it was held), with its name at the top. */
export interface Shade { from: number; to: number; label: string; color?: string }

export function Chart({ title, series, data, unit, testid, width = 420, height = 160, shade, xRange, xLabel }:
  { title: string; series: SeriesSpec[]; data: Columns; unit: string; testid: string; width?: number; height?: number;
    /** spans shaded behind the lines (drawn by a uPlot draw hook) */
    shade?: Shade[];
    /** a fixed x range (else uPlot fits the data); given, x is plain seconds (not clock time) */
    xRange?: [number, number]; xLabel?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shadeRef = useRef<Shade[]>(shade ?? []);
  const rangeRef = useRef<[number, number] | undefined>(xRange);
  shadeRef.current = shade ?? [];
  rangeRef.current = xRange;
  const fixedX = xRange !== undefined;

  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      title, width, height,
      series: [{ label: xLabel }, ...series.map(s => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 1.5, spanGaps: true }))],
      axes: [fixedX ? { label: xLabel, size: 36 } : {}, { label: unit, size: 50 }],
      scales: {
        x: fixedX ? { time: false, range: (_u, min, max) => rangeRef.current ?? [min, max] } : { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      legend: { show: true },
      hooks: {
        // the shaded spans under the series: drawn after the axes and grid, before the lines
        drawAxes: [u => {
          const ctx = u.ctx;
          ctx.save();
          for (const b of shadeRef.current) {
            const x0 = u.valToPos(b.from, 'x', true), x1 = u.valToPos(b.to, 'x', true);
            const left = Math.max(u.bbox.left, Math.min(x0, x1)), right = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
            if (right <= left) continue;
            ctx.fillStyle = b.color ?? 'rgba(221, 51, 51, 0.14)';
            ctx.fillRect(left, u.bbox.top, Math.max(1, right - left), u.bbox.height);
            ctx.fillStyle = '#b42318';
            ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
            ctx.fillText(b.label, left + 3 * devicePixelRatio, u.bbox.top + 11 * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el.current);
    return () => { plot.current?.destroy(); plot.current = null; };
    // the chart's shape is fixed per mount; data, shading and range changes go through setData/redraw below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [title, unit, width, height, series.length, fixedX]);

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);
  const shadeKey = JSON.stringify([shade ?? [], xRange ?? null]);
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    if (rangeRef.current) u.setScale('x', { min: rangeRef.current[0], max: rangeRef.current[1] }); else u.redraw();
  }, [shadeKey]);

  return <div className="metric-chart" data-testid={testid} data-points={data[0].length} data-shaded={(shade ?? []).length} ref={el} />;
}

/** A small line without axes or legend (the dashboard's VM rows). */
export function Sparkline({ values, testid, width = 110, height = 26 }: { values: { t: number; v: number }[]; testid: string; width?: number; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data: uPlot.AlignedData = [values.map(p => p.t), values.map(p => p.v)];

  useEffect(() => {
    if (!el.current) return;
    plot.current = new uPlot({
      width, height, cursor: { show: false }, legend: { show: false }, select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      series: [{}, { stroke: '#2a7ae2', fill: 'rgba(42,122,226,0.15)', width: 1 }],
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    }, data, el.current);
    return () => { plot.current?.destroy(); plot.current = null; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [width, height]);

  useEffect(() => { plot.current?.setData(data); });

  return <span className="sparkline" data-testid={testid} data-points={values.length} ref={el} />;
}
