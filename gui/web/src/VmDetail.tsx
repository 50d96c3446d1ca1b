import { useEffect, useRef, useState } from 'react';
import { api, ApiError, streamConsole, type ExecResult } from './api';
import type { LiveState } from './live';
import { impairText, linkState } from './model';
import { StateBadge } from './Dashboard';
import { VmCharts } from './metrics/VmCharts';

/** Split a command line into argv: whitespace-separated, with '…' and "…" quoting. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export function VmDetail({ id, live, refresh }: { id: string; live: LiveState; refresh: () => void }) {
  const vm = live.vms.find(v => v.id === id || v.name === id);
  const [consoleText, setConsole] = useState('');
  const [cmd, setCmd] = useState('ip addr');
  const [result, setResult] = useState<ExecResult | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const vmId = vm?.id;
  const state = vm?.state;

  useEffect(() => {
    if (!vmId) return;
    const ac = new AbortController();
    setConsole('');
    streamConsole(vmId, ac.signal, s => setConsole(c => (c + s).slice(-100000))).catch(() => { /* aborted or closed */ });
    return () => ac.abort();
  }, [vmId, state === 'RUNNING']);
  useEffect(() => { if (pre.current) pre.current.scrollTop = pre.current.scrollHeight; }, [consoleText]);

  if (!vm) return <div data-testid="vm-detail">{live.loadedAt ? `No VM '${id}'.` : 'loading…'}</div>;
  const act = async (f: () => Promise<unknown>) => {
    setErr(null);
    try { await f(); } catch (e) { setErr(e instanceof ApiError ? e.text : String(e)); }
    refresh();
  };
  const exec = async () => {
    setRunning(true); setErr(null); setResult(null);
    try { setResult(await api.exec(vm.id, splitArgs(cmd))); } catch (e) { setErr(e instanceof ApiError ? e.text : String(e)); }
    setRunning(false);
  };
  return (
    <div className="vm-detail" data-testid="vm-detail">
      <h2>{vm.name} <StateBadge state={vm.state} testid="vm-detail-state" /></h2>
      <div>
        <button data-testid="vm-detail-start" onClick={() => act(() => api.vmAction(vm.id, 'start'))}>start</button>
        <button data-testid="vm-detail-stop" onClick={() => act(() => api.vmAction(vm.id, 'stop'))}>stop</button>
        <button data-testid="vm-detail-reboot" onClick={() => act(() => api.vmAction(vm.id, 'reboot'))}>reboot</button>
      </div>
      {err && <pre className="error" data-testid="vm-detail-error">{err}</pre>}
      {vm.error && <pre className="error">{vm.error}</pre>}
      <VmCharts id={vm.id} />
      <div className="cols">
        <div>
          <h4>Properties</h4>
          <table data-testid="vm-props"><tbody>
            {([['id', vm.id], ['image', vm.image], ['cpus', vm.cpus], ['memory', `${vm.memoryMiB} MiB`], ['accel', vm.accel], ['pid', vm.pid ?? ''],
              ...(vm.cpuLimit != null ? [['cpu limit', `${vm.cpuLimit} cores`]] : []),
              ['created', vm.createdAt], ['updated', vm.updatedAt]] as [string, unknown][]).map(([k, v]) => <tr key={k}><th>{k}</th><td>{String(v)}</td></tr>)}
          </tbody></table>
          <h4>NICs</h4>
          <table data-testid="vm-nics"><thead><tr><th>nic</th><th>network</th><th>address</th><th>MAC</th><th>link</th><th>rate</th><th>tap</th></tr></thead><tbody>
            {vm.nics.map(n => (
              <tr key={n.name} data-testid={`vm-nic-${n.name}`}><td>{n.name}</td><td>{n.network}</td><td>{n.ip ? `${n.ip}${n.prefix ? '/' + n.prefix : ''}` : '-'}</td>
                <td>{n.mac}</td><td>{linkState(n)} {impairText(n.impair)}</td>
                <td data-testid={`vm-nic-${n.name}-rate`}>{n.rateKbit != null ? `${n.rateKbit} kbit/s (default)` : '-'}</td><td>{n.tap}</td></tr>
            ))}
          </tbody></table>
          <h4>Exec</h4>
          <form onSubmit={e => { e.preventDefault(); void exec(); }}>
            <input data-testid="exec-input" value={cmd} onChange={e => setCmd(e.target.value)} size={40} />
            <button data-testid="exec-run" type="submit" disabled={running}>{running ? 'running…' : 'run'}</button>
          </form>
          {result && (
            <div data-testid="exec-output" data-exit={result.exitCode}>
              <div>exit {result.exitCode}{result.timedOut ? ' (timed out)' : ''} · {result.durationMs} ms</div>
              <pre>{result.stdout}</pre>
              {result.stderr && <pre className="error">{result.stderr}</pre>}
            </div>
          )}
        </div>
        <div>
          <h4>Console</h4>
          <pre className="console" data-testid="console" ref={pre}>{consoleText}</pre>
        </div>
      </div>
    </div>
  );
}
