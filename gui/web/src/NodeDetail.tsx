// A node's page (#/node/TOPOLOGY/NODE): its state, its VMs, start/stop, and its charts (the sums over its VMs).
import { useState } from 'react';
import { api, ApiError } from './api';
import type { LiveState } from './live';
import { StateBadge } from './Dashboard';
import { NodeCharts } from './metrics/VmCharts';
import { nodeRoute } from './router';

export function NodeDetail({ arg, live, refresh }: { arg: string; live: LiveState; refresh: () => void }) {
  const { topology, node } = nodeRoute(arg);
  const n = live.nodes.find(x => x.topology === topology && x.name === node);
  const [err, setErr] = useState<string | null>(null);
  if (!n) return <div data-testid="node-detail">{live.loadedAt ? `No node '${topology}/${node}'.` : 'loading…'}</div>;
  const act = async (f: () => Promise<unknown>) => {
    setErr(null);
    try { await f(); } catch (e) { setErr(e instanceof ApiError ? e.text : String(e)); }
    refresh();
  };
  return (
    <div className="node-detail" data-testid="node-detail">
      <h2>node {topology}/{node} <StateBadge state={n.state} testid="node-detail-state" /></h2>
      <div>
        <button data-testid="node-detail-start" onClick={() => act(() => api.nodeAction(topology, node, 'start'))}>start</button>
        <button data-testid="node-detail-stop" onClick={() => act(() => api.nodeAction(topology, node, 'stop'))}>stop</button>
        <a href={`#/live/${encodeURIComponent(topology)}`}>live view</a>
      </div>
      {err && <pre className="error" data-testid="node-detail-error">{err}</pre>}
      <NodeCharts topology={topology} node={node} />
      <h4>VMs</h4>
      <table data-testid="node-vms"><thead><tr><th>vm</th><th>name</th><th>role</th><th>state</th><th>addresses</th><th>error</th></tr></thead><tbody>
        {n.vms.map(v => {
          const vm = live.vms.find(x => x.name === v.name);
          return (
            <tr key={v.name} data-testid={`node-vm-${v.name}`}>
              <td>{v.vm}</td><td>{vm ? <a href={`#/vm/${encodeURIComponent(vm.id)}`}>{v.name}</a> : v.name}</td><td>{v.role ?? ''}</td>
              <td><StateBadge state={v.state} /></td><td>{v.ips.filter(Boolean).join(', ')}</td><td className="error">{v.error ?? ''}</td>
            </tr>
          );
        })}
      </tbody></table>
    </div>
  );
}
