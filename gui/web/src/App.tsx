import { useEffect, useState } from 'react';
import { useLive } from './live';
import { Dashboard } from './Dashboard';
import { Designer } from './Designer';
import { LiveView } from './LiveView';
import { VmDetail } from './VmDetail';

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash || '#/dashboard');
  useEffect(() => {
    const f = () => setHash(window.location.hash || '#/dashboard');
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return hash;
}

export function go(hash: string) {
  window.location.hash = hash;
}

export function App() {
  const hash = useHash();
  const { live, refresh, onEvent } = useLive();
  const [route, arg] = (() => {
    const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash);
    return m ? [m[1], m[2] ? decodeURIComponent(m[2]) : ''] : ['dashboard', ''];
  })();
  const tab = (id: string, label: string, href: string) => (
    <a data-testid={`tab-${id}`} className={route === id ? 'tab active' : 'tab'} href={href}>{label}</a>
  );
  return (
    <div className="app">
      <header>
        <strong>vmctl</strong>
        {tab('dashboard', 'Dashboard', '#/dashboard')}
        {tab('designer', 'Designer', '#/designer')}
        {tab('live', 'Live view', '#/live/' + encodeURIComponent(arg && route === 'live' ? arg : (live.topologies[0]?.name ?? '')))}
        <span className="spacer" />
        <span data-testid="sse-status" data-status={live.sse} className={live.sse === 'live' || live.sse === 'connecting' ? 'ok' : 'bad'}>events: {live.sse}</span>
        {live.loadError && <span data-testid="load-error" className="bad"> {live.loadError}</span>}
      </header>
      <main>
        {route === 'dashboard' && <Dashboard live={live} refresh={refresh} />}
        {route === 'designer' && <Designer live={live} refresh={refresh} onEvent={onEvent} />}
        {route === 'live' && <LiveView name={arg} live={live} refresh={refresh} />}
        {route === 'vm' && <VmDetail id={arg} live={live} refresh={refresh} />}
      </main>
    </div>
  );
}
