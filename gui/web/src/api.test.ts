import { afterEach, describe, expect, it, vi } from 'vitest';
import { awaitOperation, operationId, send, type Operation } from './api';

const op = (state: Operation['state']): Operation => ({
  id: 'op-7', kind: 'vm.stop', targets: ['vm:abc'], state, createdAt: '2026-12-01T10:00:00Z',
  parent: null, startedAt: null, finishedAt: null, error: null, progress: null,
});

describe('operations', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reads the operation id from Operation-Location', () => {
    expect(operationId('/api/v1/operations/op-7')).toBe('op-7');
  });

  it('returns the Operation-Location of a mutating call', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 202, headers: { 'Operation-Location': '/api/v1/operations/op-7' } })));
    expect((await send('POST', '/vms/abc/stop')).operation).toBe('/api/v1/operations/op-7');
  });

  it('long-polls an operation until it has finished', async () => {
    const answers = [op('queued'), op('running'), op('succeeded')];
    const fetch = vi.fn(async (_url: string) => new Response(JSON.stringify(answers.shift())));
    vi.stubGlobal('fetch', fetch);
    expect((await awaitOperation('/api/v1/operations/op-7')).state).toBe('succeeded');
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/operations/op-7?wait=60');
  });
});
