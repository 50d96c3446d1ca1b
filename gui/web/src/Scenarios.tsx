// The Scenarios page: saved scenarios, an editor validated as you type (problems at their lines), runs against a
// deployed topology with their live timeline, and the run history with its reports. Only the REST API and the
// scenario.* events (kept by live.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, scenarioReportUrl, type Scenario, type ScenarioProblem, type ScenarioRunRequest, type ScenarioValidation, type ServerEvent } from './api';
import type { LiveState, RunsControl } from './live';
import { go } from './router';
import { CodeEditor, type Jump } from './CodeEditor';
import { StepTable, Timeline, VerdictBadge } from './ScenarioTimeline';
import { RunCharts } from './metrics/RunCharts';
import { nameInText, nowMs, parseVars, problemsByLine, problemsFromError, templateFor, topologyInText } from './scenario';

/** The editor's draft, kept in the browser so that leaving the page (or reloading it) loses nothing. */
interface Draft { text: string; loaded: string | null; topology: string; vars: { key: string; value: string }[]; run: string | null }
const DRAFT_KEY = 'vmctl.scenario.draft';

function loadDraft(): Draft | null {
  try { const d = JSON.parse(localStorage.getItem(DRAFT_KEY) ?? 'null'); return d && typeof d.text === 'string' ? d as Draft : null; } catch { return null; }
}

type Status = 'empty' | 'pending' | 'valid' | 'invalid' | 'error';

function problemText(p: ScenarioProblem): string {
  return `${p.line > 0 ? `line ${p.line}:${p.column} ` : ''}${p.path ? p.path + ': ' : ''}${p.message}${p.allowed ? ` (allowed: ${p.allowed})` : ''}`;
}

export function Scenarios({ name, live, runs, onEvent }: { name: string; live: LiveState; runs: RunsControl; onEvent: (l: (e: ServerEvent) => void) => () => void }) {
  const initial = useMemo(() => loadDraft(), []);
  const [text, setText] = useState(initial?.text ?? templateFor(live.topologies[0]));
  const [loaded, setLoaded] = useState<string | null>(initial?.loaded ?? null);
  const [topology, setTopology] = useState(initial?.topology ?? '');
  const [vars, setVars] = useState(initial?.vars ?? []);
  const [current, setCurrent] = useState<string | null>(initial?.run ?? null);
  const [saved, setSaved] = useState<Scenario[]>([]);
  const [listError, setListError] = useState<string | null>(null);
  const [status, setStatus] = useState<Status>('pending');
  const [validation, setValidation] = useState<ScenarioValidation | null>(null);
  const [problems, setProblems] = useState<ScenarioProblem[]>([]);
  const [jump, setJump] = useState<Jump | null>(null);
  const [cursor, setCursor] = useState({ line: 1, column: 1 });
  const [busy, setBusy] = useState<string | null>(null);
  const [opError, setOpError] = useState<string | null>(null);
  const [onlyThis, setOnlyThis] = useState(false);
  const seq = useRef(0);

  // no draft yet: the first scenario is written for the first deployed topology once the list has come
  const firstTopology = live.topologies[0];
  useEffect(() => {
    if (!loaded && firstTopology && text === templateFor(undefined)) setText(templateFor(firstTopology));
  }, [firstTopology?.name]);

  useEffect(() => {
    localStorage.setItem(DRAFT_KEY, JSON.stringify({ text, loaded, topology, vars, run: current } satisfies Draft));
  }, [text, loaded, topology, vars, current]);

  const loadList = useCallback(() => {
    api.scenarios().then(l => { setSaved(l); setListError(null); }, e => setListError(e instanceof ApiError ? e.text : String(e)));
  }, []);
  useEffect(() => { loadList(); runs.reload(); }, [loadList, runs.reload]);
  // a finished run changes its scenario's last verdict
  useEffect(() => onEvent(e => { if (e.type === 'scenario.finished') loadList(); }), [onEvent, loadList]);

  // #/scenarios/NAME loads that saved scenario into the editor
  useEffect(() => {
    if (!name || name === loaded) return;
    api.scenario(name).then(s => { setText(s.text); setLoaded(s.name); setOpError(null); }, e => setOpError(e instanceof ApiError ? e.text : String(e)));
  }, [name]);

  // validation as you type (debounced), against the chosen topology (or the file's)
  const validateNow = useCallback(async (t: string, topo: string) => {
    const n = ++seq.current;
    if (!t.trim()) { setStatus('empty'); setValidation(null); setProblems([]); return; }
    try {
      const v = await api.validateScenario(t, { file: `${nameInText(t) ?? 'scenario'}.yaml`, topology: topo || undefined });
      if (n !== seq.current) return;
      setValidation(v); setProblems(v.problems);
      setStatus(v.valid && v.runnable !== false ? 'valid' : 'invalid');
    } catch (e) {
      if (n !== seq.current) return;
      setValidation(null);
      setProblems([{ file: '', line: 0, column: 0, path: '', message: e instanceof ApiError ? e.text : String(e), allowed: null }]);
      setStatus('error');
    }
  }, []);
  useEffect(() => {
    setStatus('pending');
    const t = setTimeout(() => { void validateNow(text, topology); }, 400);
    return () => clearTimeout(t);
  }, [text, topology, validateNow]);

  const markers = useMemo(() => new Map([...problemsByLine(problems)].map(([l, ps]) => [l, ps.map(problemText)])), [problems]);
  const savedOne = saved.find(s => s.name === loaded);
  const fileTopology = topologyInText(text);
  const deployed = live.topologies.map(t => t.name);

  const act = async (what: string, f: () => Promise<void>) => {
    setBusy(what); setOpError(null);
    try { await f(); } catch (e) {
      const msg = e instanceof ApiError ? e.text : String(e);
      setOpError(msg);
      // a refused file: its problems at their lines
      if (e instanceof ApiError && e.status === 400) {
        const ps = problemsFromError(e.detail ?? e.error).filter(p => p.line > 0);
        if (ps.length) { setProblems(ps); setStatus('invalid'); }
      }
    } finally { setBusy(null); }
  };
  const save = () => act('saving', async () => {
    const s = await api.saveScenario(text, `${nameInText(text) ?? 'scenario'}.yaml`);
    setLoaded(s.name);
    loadList();
    go('#/scenarios/' + encodeURIComponent(s.name));
  });
  const run = () => act('starting', async () => {
    const v = parseVars(vars);
    const req: ScenarioRunRequest = savedOne && savedOne.text === text
      ? { scenario: savedOne.name } : { text, file: `${nameInText(text) ?? 'scenario'}.yaml` };
    if (topology) req.topology = topology;
    if (Object.keys(v).length) req.vars = v;
    const r = await api.runScenario(req);
    runs.put([r]);
    setCurrent(r.id);
  });
  const abort = (id: string) => act('aborting', async () => { runs.put([await api.abortScenarioRun(id)]); });
  const remove = (s: Scenario) => {
    if (!confirm(`Delete scenario ${s.name}? (its runs are kept)`)) return;
    void act('deleting', async () => {
      await api.deleteScenario(s.name);
      if (loaded === s.name) { setLoaded(null); go('#/scenarios'); }
      loadList();
    });
  };
  const fresh = () => {
    setText(templateFor(live.topologies.find(t => t.name === topology) ?? live.topologies[0]));
    setLoaded(null); setOpError(null);
    go('#/scenarios');
  };

  const all = live.runs.runs;
  const shown = current ? all.find(r => r.id === current) : undefined;
  const history = onlyThis && loaded ? all.filter(r => r.scenario === loaded) : all;

  return (
    <div className="scenarios" data-testid="scenarios">
      <div className="scn-cols">
        <div className="scn-left">
          <section>
            <h3>Saved scenarios ({saved.length}) <button data-testid="scn-new" onClick={fresh}>new</button></h3>
            {listError && <pre className="error">{listError}</pre>}
            <table data-testid="scn-list">
              <thead><tr><th>name</th><th>topology</th><th>steps</th><th>last run</th><th></th></tr></thead>
              <tbody>
                {saved.map(s => (
                  <tr key={s.name} data-testid={`scn-row-${s.name}`} data-verdict={s.lastVerdict ?? ''} className={s.name === loaded ? 'sel' : ''}>
                    <td><a data-testid={`scn-open-${s.name}`} href={`#/scenarios/${encodeURIComponent(s.name)}`}
                           onClick={() => { if (name === s.name) { setText(s.text); setLoaded(s.name); } }}>{s.name}</a></td>
                    <td>{s.topology ?? ''}</td><td>{s.steps}</td>
                    <td>{s.lastRun ? <>{s.lastRun.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} </> : ''}{s.lastVerdict && <VerdictBadge verdict={s.lastVerdict} testid={`scn-verdict-${s.name}`} />}</td>
                    <td><button data-testid={`scn-delete-${s.name}`} onClick={() => remove(s)}>delete</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <div className="toolbar">
            <b data-testid="scn-editing">{loaded ? `${loaded}${savedOne && savedOne.text !== text ? ' (changed)' : ''}` : 'unsaved'}</b>
            <label>topology <select data-testid="scn-topology" value={topology} onChange={e => setTopology(e.target.value)}>
              <option value="">{fileTopology ? `the file's (${fileTopology}${deployed.includes(fileTopology) ? '' : ', not deployed'})` : 'the file\'s'}</option>
              {deployed.map(t => <option key={t} value={t}>{t}</option>)}
            </select></label>
            <button data-testid="scn-validate" onClick={() => validateNow(text, topology)}>validate</button>
            <span data-testid="scn-validation" data-status={status} className={status === 'valid' ? 'ok' : status === 'pending' || status === 'empty' ? '' : 'bad'}>
              {status === 'valid' ? `✓ valid${validation?.runnable ? `, runnable on ${validation.topology}` : ' (no deployed topology to check it against)'}` : status === 'pending' ? '…' : status === 'empty' ? 'empty'
                : `${problems.length} problem(s)`}
            </span>
            <button data-testid="scn-save" disabled={!!busy} onClick={save}>save</button>
            <button data-testid="scn-run" disabled={!!busy || !text.trim()} onClick={run}>{busy === 'starting' ? 'starting…' : 'run'}</button>
            <span className="spacer" />
            <span className="muted" data-testid="scn-cursor" data-line={cursor.line} data-column={cursor.column}>Ln {cursor.line}, Col {cursor.column}</span>
          </div>
          <CodeEditor value={text} onChange={setText} markers={markers} jump={jump} onCursor={(line, column) => setCursor({ line, column })} testid="scn-editor" />
          {problems.length > 0 && (
            <ul className="scn-problems" data-testid="scn-problems">
              {problems.map((p, i) => (
                <li key={i} className="field-error problem" data-testid="scn-problem" data-line={p.line}
                    onClick={() => p.line > 0 && setJump({ line: p.line, column: Math.max(1, p.column), n: (jump?.n ?? 0) + 1 })}>{problemText(p)}</li>
              ))}
            </ul>
          )}
          <div className="scn-vars" data-testid="scn-vars">
            <span className="muted">vars (override the file's): </span>
            {vars.map((v, i) => (
              <span key={i} className="chip">
                <input data-testid={`scn-var-key-${i}`} size={8} placeholder="name" value={v.key} onChange={e => setVars(vars.map((x, j) => j === i ? { ...x, key: e.target.value } : x))} />=
                <input data-testid={`scn-var-value-${i}`} size={10} placeholder="value" value={v.value} onChange={e => setVars(vars.map((x, j) => j === i ? { ...x, value: e.target.value } : x))} />
                <button onClick={() => setVars(vars.filter((_, j) => j !== i))}>×</button>
              </span>
            ))}
            <button data-testid="scn-var-add" onClick={() => setVars([...vars, { key: '', value: '' }])}>+ var</button>
          </div>
          {opError && <pre className="error" data-testid="scn-error">{opError}</pre>}
        </div>
        <div className="scn-right">
          {shown ? (
            <section data-testid="scn-current" data-run={shown.id} data-verdict={shown.verdict}>
              <h3>
                run {shown.scenario} on {shown.topology} <VerdictBadge verdict={shown.verdict} testid="scn-verdict" />{' '}
                {shown.verdict === 'running' && <button data-testid="scn-abort" disabled={busy === 'aborting'} onClick={() => abort(shown.id)}>abort</button>}{' '}
                <a data-testid="scn-report-html" href={scenarioReportUrl(shown.id, 'html')} target="_blank" rel="noreferrer">report.html</a>{' '}
                <a data-testid="scn-report-junit" href={scenarioReportUrl(shown.id, 'junit')} target="_blank" rel="noreferrer">report.junit</a>
              </h3>
              <div className="muted">{shown.id} · started {shown.startedAt}{shown.finishedAt ? ` · finished ${shown.finishedAt}` : ''} · faults held: {shown.faultsHeld}
                {Object.keys(shown.vars).length > 0 && ` · vars ${Object.entries(shown.vars).map(([k, v]) => `${k}=${v}`).join(' ')}`}</div>
              {shown.error && <pre className="error" data-testid="scn-run-error">{shown.error}</pre>}
              <Timeline run={shown} now={() => nowMs(live.runs, shown)} />
              <RunCharts run={shown} topo={live.topologies.find(t => t.name === shown.topology)} now={() => nowMs(live.runs, shown)} />
              <StepTable run={shown} />
            </section>
          ) : <p className="muted">Run a scenario, or pick a run below, to see its timeline.</p>}
          <section>
            <h3>Runs ({history.length}) <label className="muted"><input type="checkbox" checked={onlyThis} disabled={!loaded} onChange={e => setOnlyThis(e.target.checked)} /> only {loaded ?? 'the loaded scenario'}</label></h3>
            <table data-testid="scn-history">
              <thead><tr><th>started</th><th>scenario</th><th>topology</th><th>verdict</th><th>reports</th></tr></thead>
              <tbody>
                {history.map(r => (
                  <tr key={r.id} data-testid={`scn-run-row-${r.id}`} data-run={r.id} data-verdict={r.verdict} className={r.id === current ? 'sel clickable' : 'clickable'}
                      onClick={() => setCurrent(r.id)}>
                    <td title={r.id}>{r.startedAt}</td><td>{r.scenario}</td><td>{r.topology}</td><td><VerdictBadge verdict={r.verdict} /></td>
                    <td onClick={e => e.stopPropagation()}>
                      <a data-testid={`scn-run-html-${r.id}`} href={scenarioReportUrl(r.id, 'html')} target="_blank" rel="noreferrer">html</a>{' '}
                      <a data-testid={`scn-run-junit-${r.id}`} href={scenarioReportUrl(r.id, 'junit')} target="_blank" rel="noreferrer">junit</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      </div>
    </div>
  );
}
