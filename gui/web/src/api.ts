// The public REST API and the SSE event stream, same origin.
export interface Nic {
  name: string; index: number; network: string; mac: string; ip: string | null; prefix?: number | null;
  link: 'up' | 'down'; impair: Record<string, number> | null; tap: string;
}
export interface Vm {
  id: string; name: string; state: string; image: string; cpus: number; memoryMiB: number; accel: string;
  createdAt: string; updatedAt: string; pid: number | null; error: string | null; nics: Nic[];
  labels?: Record<string, string>;
}
export interface NodeVm { name: string; vm: string; role: string | null; state: string; ips: (string | null)[]; error?: string | null }
export interface VmNode { topology: string; name: string; state: string; vms: NodeVm[] }
export interface Network {
  id: string; name: string; subnet: string; gateway: string; vlan: number | null; bridge: string;
  routers: string[]; attachments: { vm: string; nic: string; ip: string | null; mac: string }[];
}
export interface Router { id: string; name: string; networks: { network: string; address: string }[] }
export interface Topology { name: string; file?: string | null; appliedAt?: string; state: string; networks: string[]; routers: string[]; nodes: VmNode[] }
export interface ReportStep { verb: string; type: string; name: string; description: string; status: string; error?: string | null; millis?: number | null }
export interface Report { topology: string; dryRun: boolean; ok: boolean; summary: string; steps: ReportStep[]; durationMs: number; rolledBack?: boolean }
export interface ServerEvent { seq: number; type: string; vmId?: string | null; name?: string | null; from?: string | null; state?: string | null; message?: string | null; at: string }
export interface ExecResult { exitCode: number; stdout: string; stderr: string; timedOut: boolean; durationMs: number }

export class ApiError extends Error {
  constructor(public status: number, public error: string, public detail: string | null) {
    super(error);
  }
  /** the text to show: error, and detail when it adds something */
  get text(): string {
    return this.detail && this.detail !== this.error ? `${this.error}\n${this.detail}` : this.error;
  }
}

const BASE = '/api/v1';

async function call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = contentType;
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const e = json as { error?: string; detail?: string | null } | null;
    throw new ApiError(res.status, e?.error ?? `${res.status} ${res.statusText}: ${text}`, e?.detail ?? null);
  }
  return json as T;
}

export const api = {
  vms: () => call<Vm[]>('GET', '/vms'),
  vm: (id: string) => call<Vm>('GET', `/vms/${encodeURIComponent(id)}`),
  vmAction: (id: string, action: 'start' | 'stop' | 'reboot') => call<Vm>('POST', `/vms/${encodeURIComponent(id)}/${action}`),
  deleteVm: (id: string) => call<unknown>('DELETE', `/vms/${encodeURIComponent(id)}?force=true`),
  exec: (id: string, argv: string[]) => call<ExecResult>('POST', `/vms/${encodeURIComponent(id)}/exec`, { argv }),
  patchNic: (id: string, nic: string, patch: unknown) => call<Nic>('PATCH', `/vms/${encodeURIComponent(id)}/nics/${encodeURIComponent(nic)}`, patch),
  networks: () => call<Network[]>('GET', '/networks'),
  routers: () => call<Router[]>('GET', '/routers'),
  nodes: () => call<VmNode[]>('GET', '/nodes'),
  nodeAction: (t: string, n: string, action: 'start' | 'stop') => call<unknown>('POST', `/nodes/${encodeURIComponent(t)}/${encodeURIComponent(n)}/${action}`),
  topologies: () => call<Topology[]>('GET', '/topologies'),
  topology: (name: string) => call<Topology>('GET', `/topologies/${encodeURIComponent(name)}`),
  apply: (fileName: string, jsonText: string, dryRun: boolean) =>
    call<Report>('POST', `/topologies?file=${encodeURIComponent(fileName)}${dryRun ? '&dryRun=true' : ''}`, jsonText),
  destroy: (name: string) => call<Report>('DELETE', `/topologies/${encodeURIComponent(name)}`),
};

export const EVENT_TYPES = ['vm.state', 'vm.progress', 'vm.nic', 'node.state', 'network.created', 'network.deleted',
  'router.created', 'router.deleted', 'topology.progress', 'image.progress', 'image.built', 'image.failed', 'snapshot.created', 'message'];

/** Subscribe to the SSE stream; EventSource reconnects by itself (with Last-Event-ID). Returns the unsubscribe. */
export type SseStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export function subscribe(onEvent: (e: ServerEvent) => void, onStatus?: (s: SseStatus) => void): () => void {
  const es = new EventSource(`${BASE}/events`);
  onStatus?.('connecting');
  const handler = (m: MessageEvent) => {
    onStatus?.('live');
    try { onEvent(JSON.parse(m.data) as ServerEvent); } catch { /* ignore malformed */ }
  };
  for (const t of EVENT_TYPES) es.addEventListener(t, handler as EventListener);
  // the server may send its response headers only with the first event: until then the stream is 'connecting'
  es.onopen = () => onStatus?.('live');
  es.onerror = () => onStatus?.(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  return () => es.close();
}

/** Stream the serial console (text) into onChunk until aborted. */
export async function streamConsole(id: string, signal: AbortSignal, onChunk: (s: string) => void): Promise<void> {
  const res = await fetch(`${BASE}/vms/${encodeURIComponent(id)}/console?tail=200&follow=true`, { signal });
  if (!res.ok || !res.body) {
    onChunk(`[console: ${res.status} ${await res.text()}]\n`);
    return;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    onChunk(dec.decode(value, { stream: true }));
  }
}
