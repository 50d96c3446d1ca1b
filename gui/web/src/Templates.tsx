// The Templates page: request-driven node templates (a node snapshot whose service answers on a port; every request
// to /run/NAME/… gets a fresh copy of the node in its own segment). Create one from a deployed node, size its warm
// pool, invoke it with a form, and see the last requests with their Server-Timing split as a bar. Only the REST API
// and the template.* events.
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Invocation, type InvokeAnswer, type ServerEvent, type Template } from './api';
import type { LiveState } from './live';
import { go } from './router';

/** The Server-Timing parts in the order they happen, with their bar colours. */
export const PARTS: { name: string; color: string }[] = [
  { name: 'queue', color: '#9aa5b1' },
  { name: 'segment', color: '#5b8def' },
  { name: 'restore', color: '#f0a030' },
  { name: 'resume', color: '#c58af9' },
  { name: 'ready', color: '#3bb273' },
  { name: 'upstream', color: '#e4572e' },
];

const errText = (e: unknown) => (e instanceof ApiError ? e.text : String(e));

/** The timings as bar segments: each part's share of the sum of the parts (total is the sum, not drawn). */
export function timingSegments(t: Record<string, number>): { name: string; color: string; ms: number; pct: number }[] {
  const parts = PARTS.filter(p => typeof t[p.name] === 'number' && t[p.name] > 0).map(p => ({ ...p, ms: t[p.name] }));
  const sum = parts.reduce((a, p) => a + p.ms, 0);
  return parts.map(p => ({ ...p, pct: sum > 0 ? (100 * p.ms) / sum : 0 }));
}

function TimingBar({ timings, testid }: { timings: Record<string, number>; testid?: string }) {
  const segs = timingSegments(timings);
  const total = timings.total;
  return (
    <div className="timing" data-testid={testid} title={segs.map(s => `${s.name} ${s.ms.toFixed(1)} ms`).join(', ')}>
      <div className="timing-bar">
        {segs.map(s => <span key={s.name} data-part={s.name} style={{ width: `${s.pct}%`, background: s.color }} />)}
      </div>
      <span className="timing-total">{typeof total === 'number' ? `${total.toFixed(0)} ms` : ''}</span>
    </div>
  );
}

export function Templates({ name, live, onEvent }: { name: string; live: LiveState; onEvent: (l: (e: ServerEvent) => void) => () => void }) {
  const [list, setList] = useState<Template[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.templates().then(l => { setList(l); setError(null); }, e => setError(errText(e)));
  }, []);
  useEffect(() => { load(); }, [load]);
  useEffect(() => onEvent(e => { if (e.type.startsWith('template.')) load(); }), [onEvent, load]);
  // a warm pool fills in the background (no event per copy): poll while one is short
  const filling = list.some(t => t.poolReady !== t.poolWarm);
  useEffect(() => {
    if (!filling) return;
    const h = window.setInterval(load, 1500);
    return () => window.clearInterval(h);
  }, [filling, load]);
  const selected = list.find(t => t.name === name) ?? null;
  return (
    <div className="templates">
      <section>
        <h3>Templates ({list.length})</h3>
        {error && <p className="bad" data-testid="templates-error">{error}</p>}
        <table data-testid="templates-table">
          <thead><tr><th>name</th><th>from</th><th>service</th><th>ready</th><th>limit</th><th>timeout</th><th>pool</th><th>active</th><th>requests</th></tr></thead>
          <tbody>
            {list.map(t => (
              <tr key={t.name} data-testid={`template-row-${t.name}`} className={t.name === name ? 'selected' : ''} onClick={() => go('#/templates/' + encodeURIComponent(t.name))}>
                <td><a href={'#/templates/' + encodeURIComponent(t.name)}>{t.name}</a></td>
                <td>{t.from}</td><td>{t.vm}:{t.port}</td><td>{t.ready}</td><td>{t.maxConcurrent}</td><td>{(t.timeoutMs / 1000).toFixed(0)} s</td>
                <td data-testid={`template-pool-${t.name}`}>{t.poolReady}/{t.poolWarm}</td><td>{t.active}</td><td>{t.invocations}</td>
              </tr>
            ))}
            {list.length === 0 && <tr><td colSpan={9}>none yet: make one from a running node below</td></tr>}
          </tbody>
        </table>
      </section>
      <CreateForm live={live} onCreated={n => { load(); go('#/templates/' + encodeURIComponent(n)); }} />
      {selected && <TemplateDetail key={selected.name} t={selected} onChange={load} onEvent={onEvent} />}
    </div>
  );
}

function CreateForm({ live, onCreated }: { live: LiveState; onCreated: (name: string) => void }) {
  const nodes = live.nodes.map(n => `${n.topology}/${n.name}`);
  const [tname, setName] = useState('');
  const [from, setFrom] = useState('');
  const [port, setPort] = useState('8080');
  const [ready, setReady] = useState('tcp');
  const [max, setMax] = useState('10');
  const [timeout, setTimeout_] = useState('30s');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const source = from || nodes[0] || '';
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const t = await api.createTemplate({ name: tname, from: source, port: Number(port), ready, maxConcurrent: Number(max), timeout });
      onCreated(t.name);
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h3>New template</h3>
      <div className="form-row">
        <label>name <input data-testid="template-name" value={tname} onChange={e => setName(e.target.value)} placeholder="echo" /></label>
        <label>from node <select data-testid="template-from" value={source} onChange={e => setFrom(e.target.value)}>
          {nodes.map(n => <option key={n} value={n}>{n}</option>)}
        </select></label>
        <label>port <input data-testid="template-port" value={port} onChange={e => setPort(e.target.value)} size={6} /></label>
        <label>ready <input data-testid="template-ready" value={ready} onChange={e => setReady(e.target.value)} size={14} title="tcp or http:/PATH" /></label>
        <label>max at once <input data-testid="template-max" value={max} onChange={e => setMax(e.target.value)} size={4} /></label>
        <label>timeout <input data-testid="template-timeout" value={timeout} onChange={e => setTimeout_(e.target.value)} size={5} /></label>
        <button data-testid="template-create" disabled={busy || !tname || !source} onClick={submit}>{busy ? 'waiting for the service…' : 'create'}</button>
      </div>
      {nodes.length === 0 && <p>No node is deployed: deploy a topology first (Designer).</p>}
      {error && <p className="bad" data-testid="template-create-error">{error}</p>}
    </section>
  );
}

function TemplateDetail({ t, onChange, onEvent }: { t: Template; onChange: () => void; onEvent: (l: (e: ServerEvent) => void) => () => void }) {
  const [runs, setRuns] = useState<Invocation[]>([]);
  const [warm, setWarm] = useState(String(t.poolWarm));
  const [method, setMethod] = useState('POST');
  const [path, setPath] = useState('/');
  const [headers, setHeaders] = useState('Content-Type: text/plain');
  const [body, setBody] = useState('hello');
  const [answer, setAnswer] = useState<InvokeAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const loadRuns = useCallback(() => { api.invocations(t.name, 20).then(setRuns, e => setError(errText(e))); }, [t.name]);
  useEffect(() => { loadRuns(); }, [loadRuns]);
  useEffect(() => onEvent(e => { if (e.type === 'template.invoked' && e.name === t.name) loadRuns(); }), [onEvent, loadRuns, t.name]);

  const invoke = async () => {
    setBusy(true);
    setError(null);
    setAnswer(null);
    const hs: Record<string, string> = {};
    for (const line of headers.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) hs[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      setAnswer(await api.invoke(t.name, { method: method as 'GET', path, headers: hs, body: method === 'GET' || method === 'HEAD' ? null : body }));
      loadRuns();
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };
  const setPool = async () => {
    try {
      await api.setTemplatePool(t.name, Number(warm));
      onChange();
    } catch (e) {
      setError(errText(e));
    }
  };
  const remove = async () => {
    try {
      await api.deleteTemplate(t.name);
      go('#/templates');
      onChange();
    } catch (e) {
      setError(errText(e));
    }
  };
  return (
    <section data-testid={`template-detail-${t.name}`}>
      <h3>{t.name} <small>from {t.from}, node snapshot {t.snapshot}, subnet {t.subnet}</small></h3>
      <p>Every request to <code>/run/{t.name}/…</code> gets a fresh copy of the node ({t.members.map(m => `${m.vm} ${m.ips.join(',')}`).join('; ')}) in its own segment; it is removed after the answer.</p>
      <div className="form-row">
        <label>warm pool <input data-testid="template-warm" value={warm} onChange={e => setWarm(e.target.value)} size={3} /></label>
        <button data-testid="template-set-pool" onClick={setPool}>set</button>
        <span>{t.poolReady} ready of {t.poolWarm}</span>
        <span className="spacer" />
        <button data-testid="template-remove" className="danger" onClick={remove}>remove template</button>
      </div>
      <h4>Invoke</h4>
      <div className="form-row">
        <select data-testid="invoke-method" value={method} onChange={e => setMethod(e.target.value)}>
          {['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].map(m => <option key={m}>{m}</option>)}
        </select>
        <input data-testid="invoke-path" value={path} onChange={e => setPath(e.target.value)} size={30} />
        <button data-testid="invoke-send" disabled={busy} onClick={invoke}>{busy ? 'serving…' : 'send'}</button>
      </div>
      <div className="form-row">
        <label>headers <textarea data-testid="invoke-headers" value={headers} onChange={e => setHeaders(e.target.value)} rows={2} cols={40} /></label>
        <label>body <textarea data-testid="invoke-body" value={body} onChange={e => setBody(e.target.value)} rows={2} cols={40} /></label>
      </div>
      {error && <p className="bad" data-testid="invoke-error">{error}</p>}
      {answer && (
        <div data-testid="invoke-answer">
          <p>status <strong data-testid="invoke-status">{answer.status}</strong></p>
          <TimingBar timings={answer.timings} testid="invoke-timing" />
          <pre data-testid="invoke-body-out">{answer.body ?? `(binary, ${answer.bodyBase64?.length ?? 0} base64 characters)`}</pre>
        </div>
      )}
      <h4>Last requests</h4>
      <div className="legend">{PARTS.map(p => <span key={p.name}><i style={{ background: p.color }} /> {p.name}</span>)}</div>
      <table data-testid="invocations-table">
        <thead><tr><th>when</th><th>request</th><th>status</th><th>pooled</th><th>Server-Timing</th><th>error</th></tr></thead>
        <tbody>
          {runs.map(r => (
            <tr key={r.id} data-testid={`invocation-${r.id}`}>
              <td>{r.startedAt ? new Date(r.startedAt).toLocaleTimeString() : ''}</td>
              <td>{r.method} {r.path}</td>
              <td>{r.status ?? '-'}</td>
              <td>{r.pooled ? 'yes' : 'no'}</td>
              <td><TimingBar timings={r.timings} /></td>
              <td>{r.error ?? ''}</td>
            </tr>
          ))}
          {runs.length === 0 && <tr><td colSpan={6}>no request yet</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
