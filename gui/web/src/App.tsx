import { useLive } from './live';
import { parseRoute, useHash } from './router';
import { Dashboard } from './Dashboard';
import { Designer } from './Designer';
import { LiveView } from './LiveView';
import { VmDetail } from './VmDetail';
import { NodeDetail } from './NodeDetail';
import { Scenarios } from './Scenarios';
import { Templates } from './Templates';
import { useEffect, useState } from 'react';
import { api } from './api';

/** The logged-in user and a way out (the session cookie is HttpOnly: only the server can clear it). */
function Session() {
  const [who, setWho] = useState<string | null>(null);
  useEffect(() => { api.whoAmI().then(u => setWho(`${u.name} (${u.role})`), () => setWho(null)); }, []);
  return (
    <form method="post" action="/logout" className="session">
      {who && <span data-testid="whoami">{who}</span>}
      <button type="submit" data-testid="logout">Log out</button>
    </form>
  );
}

export function App() {
  const hash = useHash();
  const { live, refresh, onEvent, runs } = useLive();
  const [route, arg] = parseRoute(hash);
  const tab = (id: string, label: string, href: string) => (
    <a data-testid={`tab-${id}`} className={route === id ? 'tab active' : 'tab'} href={href}>{label}</a>
  );
  const running = live.runs.runs.filter(r => r.verdict === 'running').length;
  return (
    <div className="app">
      <header>
        <strong>vmctl</strong>
        {tab('dashboard', 'Dashboard', '#/dashboard')}
        {tab('designer', 'Designer', '#/designer')}
        {tab('live', 'Live view', '#/live/' + encodeURIComponent(arg && route === 'live' ? arg : (live.topologies[0]?.name ?? '')))}
        {tab('scenarios', running ? `Scenarios (${running} running)` : 'Scenarios', '#/scenarios' + (route === 'scenarios' && arg ? '/' + encodeURIComponent(arg) : ''))}
        {tab('templates', 'Templates', '#/templates' + (route === 'templates' && arg ? '/' + encodeURIComponent(arg) : ''))}
        <span className="spacer" />
        <span data-testid="sse-status" data-status={live.sse} className={live.sse === 'live' || live.sse === 'connecting' ? 'ok' : 'bad'}>events: {live.sse}</span>
        {live.loadError && <span data-testid="load-error" className="bad"> {live.loadError}</span>}
        <Session />
      </header>
      <main>
        {route === 'dashboard' && <Dashboard live={live} refresh={refresh} />}
        {route === 'designer' && <Designer live={live} refresh={refresh} onEvent={onEvent} />}
        {route === 'live' && <LiveView name={arg} live={live} refresh={refresh} />}
        {route === 'vm' && <VmDetail id={arg} live={live} refresh={refresh} />}
        {route === 'node' && <NodeDetail arg={arg} live={live} refresh={refresh} />}
        {route === 'scenarios' && <Scenarios name={arg} live={live} runs={runs} onEvent={onEvent} />}
        {route === 'templates' && <Templates name={arg} live={live} onEvent={onEvent} />}
      </main>
    </div>
  );
}
