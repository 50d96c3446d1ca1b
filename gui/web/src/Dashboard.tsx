import { useState } from 'react';
import { api, ApiError } from './api';
import type { LiveState } from './live';
import { countByState, stateColor, VM_STATES } from './model';
import { Sparkline } from './metrics/Chart';
import { useCpuHistory } from './metrics/useLatestMetrics';
import { nodeHref } from './router';

export function StateBadge({ state, testid }: { state: string; testid?: string }) {
  return <span className="badge" data-testid={testid} data-state={state} style={{ background: stateColor(state) }}>{state}</span>;
}

export function Dashboard({ live, refresh }: { live: LiveState; refresh: () => void }) {
  const counts = countByState(live.vms);
  const [actionError, setActionError] = useState<string | null>(null);
  const cpu = useCpuHistory();
  const act = async (f: () => Promise<unknown>) => {
    setActionError(null);
    try { await f(); } catch (e) { setActionError(e instanceof ApiError ? e.text : String(e)); }
    refresh();
  };
  const errors = [
    ...live.vms.filter(v => v.state === 'ERROR' || v.error).map(v => ({ what: `VM ${v.name}`, reason: v.error ?? v.state })),
    ...live.nodes.flatMap(n => n.vms.filter(v => v.error).map(v => ({ what: `node ${n.topology}/${n.name} VM ${v.name}`, reason: v.error! }))),
  ];
  return (
    <div className="dashboard" data-testid="dashboard">
      <section className="counts">
        {VM_STATES.map(s => (
          <div key={s} className="count" data-testid={`count-${s}`} data-count={counts[s] ?? 0}>
            <span className="n" style={{ color: stateColor(s) }}>{counts[s] ?? 0}</span> {s}
          </div>
        ))}
        <div className="count" data-testid="count-total" data-count={live.vms.length}><span className="n">{live.vms.length}</span> VMs</div>
      </section>
      {actionError && <pre className="error" data-testid="dashboard-error">{actionError}</pre>}
      {errors.length > 0 && (
        <section data-testid="errors">
          <h3>Errors</h3>
          <ul>{errors.map((e, i) => <li key={i} className="error"><b>{e.what}</b>: {e.reason}</li>)}</ul>
        </section>
      )}
      <section>
        <h3>Topologies ({live.topologies.length})</h3>
        <table>
          <thead><tr><th>name</th><th>state</th><th>nodes</th><th>networks</th><th>routers</th><th>applied</th><th></th></tr></thead>
          <tbody>
            {live.topologies.map(t => (
              <tr key={t.name} data-testid={`topo-row-${t.name}`}>
                <td>{t.name}</td><td><StateBadge state={t.state} /></td>
                <td>{t.nodes.length}</td><td>{t.networks.join(', ')}</td><td>{t.routers.join(', ')}</td><td>{t.appliedAt ?? ''}</td>
                <td>
                  <a data-testid={`topo-live-${t.name}`} href={`#/live/${encodeURIComponent(t.name)}`}>live view</a>{' '}
                  <button data-testid={`topo-destroy-${t.name}`} onClick={() => confirm(`Destroy topology ${t.name}?`) && act(() => api.destroy(t.name))}>destroy</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Nodes ({live.nodes.length})</h3>
        <table>
          <thead><tr><th>topology</th><th>node</th><th>state</th><th>VMs</th><th></th></tr></thead>
          <tbody>
            {live.nodes.map(n => (
              <tr key={n.topology + '/' + n.name} data-testid={`node-row-${n.topology}-${n.name}`}>
                <td>{n.topology}</td><td><a data-testid={`node-link-${n.topology}-${n.name}`} href={nodeHref(n.topology, n.name)}>{n.name}</a></td><td><StateBadge state={n.state} /></td>
                <td>{n.vms.map(v => <span key={v.vm} className="chip">{v.name} <StateBadge state={v.state} /></span>)}</td>
                <td>
                  <button data-testid={`node-start-${n.topology}-${n.name}`} onClick={() => act(() => api.nodeAction(n.topology, n.name, 'start'))}>start</button>
                  <button data-testid={`node-stop-${n.topology}-${n.name}`} onClick={() => act(() => api.nodeAction(n.topology, n.name, 'stop'))}>stop</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>VMs ({live.vms.length})</h3>
        <table>
          <thead><tr><th>name</th><th>state</th><th>cpu</th><th>image</th><th>cpus</th><th>memory</th><th>addresses</th><th>error</th><th></th></tr></thead>
          <tbody>
            {live.vms.map(v => (
              <tr key={v.id} data-testid={`vm-row-${v.name}`} data-state={v.state}>
                <td><a data-testid={`vm-link-${v.name}`} href={`#/vm/${encodeURIComponent(v.id)}`}>{v.name}</a></td>
                <td><StateBadge state={v.state} testid={`vm-state-${v.name}`} /></td>
                <td><Sparkline values={cpu[v.id] ?? []} testid={`vm-spark-${v.name}`} /></td>
                <td>{v.image}</td><td>{v.cpus}</td><td>{v.memoryMiB} MiB</td>
                <td>{v.nics.map(n => `${n.name} ${n.ip ?? '-'} (${n.network})`).join(', ')}</td>
                <td className="error">{v.error ?? ''}</td>
                <td>
                  <button data-testid={`vm-start-${v.name}`} onClick={() => act(() => api.vmAction(v.id, 'start'))}>start</button>
                  <button data-testid={`vm-stop-${v.name}`} onClick={() => act(() => api.vmAction(v.id, 'stop'))}>stop</button>
                  <button data-testid={`vm-reboot-${v.name}`} onClick={() => act(() => api.vmAction(v.id, 'reboot'))}>reboot</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Networks ({live.networks.length})</h3>
        <table>
          <thead><tr><th>name</th><th>subnet</th><th>gateway</th><th>VLAN</th><th>routers</th><th>attached</th></tr></thead>
          <tbody>
            {live.networks.map(n => (
              <tr key={n.id} data-testid={`net-row-${n.name}`}>
                <td>{n.name}</td><td>{n.subnet}</td><td>{n.gateway}</td><td>{n.vlan ?? ''}</td><td>{n.routers.join(', ')}</td>
                <td>{n.attachments.map(a => `${a.vm}/${a.nic} ${a.ip ?? ''}`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Segments ({live.segments.length})</h3>
        <table>
          <thead><tr><th>name</th><th>owner</th><th>subnet</th><th>expires</th><th>VMs</th><th>networks</th><th>VPN peers</th></tr></thead>
          <tbody>
            {live.segments.map(g => (
              <tr key={g.id} data-testid={`segment-row-${g.name}`}>
                <td>{g.name}</td><td>{g.owner ?? ''}</td><td>{g.subnet}{g.router ? ` (gateway ${g.gateway})` : ''}</td>
                <td>{g.expiresAt ?? 'never'}</td><td>{g.vms.join(', ')}</td><td>{g.networks.join(', ')}</td>
                <td>{g.vpn ? g.vpn.peers.length : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Routers ({live.routers.length})</h3>
        <table>
          <tbody>{live.routers.map(r => <tr key={r.id} data-testid={`router-row-${r.name}`}><td>{r.name}</td><td>{r.networks.map(n => `${n.network} ${n.address}`).join(', ')}</td></tr>)}</tbody>
        </table>
      </section>
      <section>
        <h3>Operations</h3>
        <table data-testid="operations">
          <thead><tr><th>started</th><th>kind</th><th>targets</th><th>state</th><th>progress / error</th><th></th></tr></thead>
          <tbody>
            {live.operations.map(o => (
              <tr key={o.id} data-testid={`op-row-${o.id}`} data-kind={o.kind} data-state={o.state}>
                <td title={o.id}>{o.startedAt ?? o.createdAt}</td><td>{o.kind}</td><td>{o.targets.join(', ')}</td>
                <td><span className="badge" data-state={o.state}>{o.state}</span></td>
                <td className={o.error ? 'error' : ''}>{o.error ?? o.progress ?? ''}</td>
                <td>{(o.state === 'queued' || o.state === 'running') &&
                  <button data-testid={`op-cancel-${o.id}`} onClick={() => act(() => api.cancelOperation(o.id))}>cancel</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Events</h3>
        <ul className="events" data-testid="event-log">
          {live.events.slice(-15).reverse().map(e => (
            <li key={e.seq}>{e.at} <b>{e.type}</b> {e.name ?? ''} {e.from ? `${e.from} → ` : ''}{e.state ?? ''} {e.message ?? ''}{e.operation ? ` [${e.operation}]` : ''}</li>
          ))}
        </ul>
      </section>
    </div>
  );
}
