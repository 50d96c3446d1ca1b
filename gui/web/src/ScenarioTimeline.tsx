// A run's timeline (SVG: x = ms from the run's start, one row per target; faults as bars, checks as dots or bars)
// and its table of steps. The layout is scenario.ts's layoutTimeline; this only draws it.
import { useEffect, useState } from 'react';
import type { ScenarioRun, ScenarioStepResult } from './api';
import { layoutTimeline, msText, STATUS_COLORS, type TimelineItem } from './scenario';

const LABEL_W = 150, PLOT_W = 720, RIGHT_W = 24, AXIS_H = 24, LANE_H = 16, ROW_PAD = 4;

export function VerdictBadge({ verdict, testid }: { verdict: string | null | undefined; testid?: string }) {
  const v = verdict ?? 'none';
  const color = v === 'pass' ? '#2e9d4f' : v === 'fail' ? '#d33' : v === 'running' ? '#2563eb' : v === 'aborted' ? '#e07b00' : '#999';
  return <span className="badge" data-testid={testid} data-verdict={v} style={{ background: color }}>{verdict ?? '—'}</span>;
}

/** Re-renders every `ms` while `on` (a running run's bars grow between events). */
function useTicker(on: boolean, ms = 250) {
  const [, setN] = useState(0);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setN(n => n + 1), ms);
    return () => clearInterval(t);
  }, [on, ms]);
}

function title(s: ScenarioStepResult): string {
  const times = [`at ${msText(s.startedMs ?? s.scheduledMs)}`];
  if (s.finishedMs !== null) times.push(`finished ${msText(s.finishedMs)}`);
  if (s.revertedMs !== null) times.push(`reverted ${msText(s.revertedMs)}`);
  return `${s.phase} ${s.kind} ${s.name} (${s.type} ${s.targets.join(' → ')}): ${s.outcome}, ${times.join(', ')}${s.message ? '\n' + s.message : ''}`;
}

export function Timeline({ run, now }: { run: ScenarioRun; now: () => number }) {
  useTicker(run.verdict === 'running');
  const t = now();
  const tl = layoutTimeline(run, t);
  const x = (ms: number) => LABEL_W + (ms / tl.endMs) * PLOT_W;
  const width = LABEL_W + PLOT_W + RIGHT_W;
  let y = AXIS_H;
  const rows = tl.rows.map(r => {
    const top = y;
    const h = r.lanes * LANE_H + 2 * ROW_PAD;
    y += h;
    return { r, top, h };
  });
  const height = y + 6;
  const item = (m: TimelineItem, top: number, i: number) => {
    const cy = top + ROW_PAD + m.lane * LANE_H + LANE_H / 2;
    const s = m.step;
    const key = `${s.phase}-${s.kind}-${s.index}-${i}`;
    const common = {
      'data-testid': `tl-${s.phase}-${s.name}`, 'data-kind': s.kind, 'data-shape': m.shape,
      'data-outcome': s.outcome, 'data-open': m.open ? 'true' : undefined, className: `tl-item tl-${m.status}`,
    };
    if (m.shape === 'bar') {
      const x0 = x(m.startMs), w = Math.max(3, x(m.endMs) - x0);
      return (
        <g key={key} {...common}>
          <title>{title(s)}</title>
          <rect x={x0} y={cy - LANE_H / 2 + 2} width={w} height={LANE_H - 4} rx={3} fill={m.color} fillOpacity={s.kind === 'check' ? 0.55 : 0.9}
                stroke={m.color} strokeDasharray={m.open ? '4 2' : undefined} />
          {w > 40 && <text x={x0 + 4} y={cy + 4} className="tl-text">{s.name}</text>}
        </g>
      );
    }
    const pending = s.startedMs === null;
    return (
      <g key={key} {...common}>
        <title>{title(s)}</title>
        <circle cx={x(m.startMs)} cy={cy} r={5} fill={pending ? '#fff' : m.color} stroke={m.color} strokeWidth={pending ? 2 : 1} />
        <text x={x(m.startMs) + 8} y={cy + 4} className="tl-text">{s.name}</text>
      </g>
    );
  };
  return (
    <div className="timeline" data-testid="scn-timeline" data-run={run.id} data-end-ms={Math.round(tl.endMs)}>
      <svg width="100%" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="timeline" style={{ maxWidth: width }}>
        {tl.ticks.map(ms => (
          <g key={ms}>
            <line x1={x(ms)} x2={x(ms)} y1={AXIS_H - 6} y2={height - 4} className="tl-grid" />
            <text x={x(ms)} y={AXIS_H - 10} textAnchor="middle" className="tl-tick">{msText(ms)}</text>
          </g>
        ))}
        {rows.map(({ r, top, h }) => (
          <g key={r.target} data-testid={`tl-row-${r.target}`}>
            <line x1={0} x2={width} y1={top + h} y2={top + h} className="tl-grid" />
            <text x={6} y={top + Math.min(h, LANE_H + 2 * ROW_PAD) / 2 + 4} className="tl-label">{r.target.length > 22 ? r.target.slice(0, 21) + '…' : r.target}<title>{r.target}</title></text>
            {r.items.map((m, i) => item(m, top, i))}
          </g>
        ))}
        {run.verdict === 'running' && <line data-testid="tl-now" x1={x(t)} x2={x(t)} y1={AXIS_H - 6} y2={height - 4} className="tl-now" />}
      </svg>
      <div className="muted legend">
        {(['pass', 'fail', 'running', 'skipped', 'applied', 'reverted'] as const).map(k => (
          <span key={k}><span className="swatch" style={{ background: STATUS_COLORS[k] }} /> {k === 'applied' ? 'fault held' : k === 'reverted' ? 'fault reverted' : k}</span>
        ))}
      </div>
    </div>
  );
}

function measuredText(m: Record<string, unknown>): string {
  return Object.entries(m).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

export function StepTable({ run }: { run: ScenarioRun }) {
  return (
    <table className="steps" data-testid="scn-steps">
      <thead><tr><th>phase</th><th>kind</th><th>name</th><th>type</th><th>targets</th><th>at</th><th>started</th><th>finished</th><th>reverted</th><th>outcome</th><th>measured / message</th></tr></thead>
      <tbody>
        {run.steps.map(s => (
          <tr key={`${s.phase}-${s.kind}-${s.index}-${s.name}`} data-testid={`scn-step-${s.phase}-${s.name}`} data-outcome={s.outcome}>
            <td>{s.phase}</td><td>{s.kind}</td><td>{s.name}</td><td>{s.type}{s.mode && s.mode !== 'once' ? ` (${s.mode})` : ''}{s.expect === 'fail' ? ' expect fail' : ''}</td>
            <td>{s.targets.join(s.kind === 'check' ? ' → ' : ', ')}</td>
            <td>{msText(s.scheduledMs)}</td><td>{msText(s.startedMs)}</td><td>{msText(s.finishedMs)}</td><td>{msText(s.revertedMs)}</td>
            <td><span className="badge" style={{ background: STATUS_COLORS[s.outcome as keyof typeof STATUS_COLORS] ?? '#999' }}>{s.outcome}</span></td>
            <td className="muted">{measuredText(s.measured)}{s.message ? ` — ${s.message}` : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
