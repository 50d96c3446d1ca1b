// A uPlot time-series chart as a React component: created once per mount, fed new columns with setData.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from './series';

export interface SeriesSpec { label: string; stroke: string; fill?: string }

export function Chart({ title, series, data, unit, testid, width = 420, height = 160 }:
  { title: string; series: SeriesSpec[]; data: Columns; unit: string; testid: string; width?: number; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      title, width, height,
      series: [{}, ...series.map(s => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 1.5, spanGaps: true }))],
      axes: [{}, { label: unit, size: 50 }],
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      legend: { show: true },
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el.current);
    return () => { plot.current?.destroy(); plot.current = null; };
    // the chart's shape is fixed per mount; data changes go through setData below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [title, unit, width, height, series.length]);

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);

  return <div className="metric-chart" data-testid={testid} data-points={data[0].length} ref={el} />;
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
