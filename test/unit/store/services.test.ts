// Service runs in the store (issue 15, migration v7): the first report starts the timeout and
// stays, readiness and the endpoint survive a reopen, the last failed check is kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/store/ledger.js';
import { sampleSpec } from '../../fixtures.js';

const service = { port: 8080, exposure: 'ClusterIP' as const };

describe('ServiceRuns', () => {
  it('keeps the first report, readiness, endpoint and last check across a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pman-ts-svc-'));
    try {
      const ledger = Ledger.open(dir);
      const spec = sampleSpec({ name: 's1', service });
      const { runId } = await ledger.intake({ jid: 's1', spec, fingerprint: 'f' });
      expect(ledger.services.get(runId)).toBeUndefined();
      await ledger.services.seen(runId, 1000);
      await ledger.services.seen(runId, 5000);
      await ledger.services.failed(runId, 'connection refused');
      expect(ledger.services.get(runId)).toEqual({
        since: 1000,
        readyAt: null,
        endpoint: null,
        lastCheck: 'connection refused',
      });
      await ledger.services.ready(runId, 7000, 'http://127.0.0.1:40001');
      await ledger.services.ready(runId, 9000, undefined);
      ledger.close();
      const again = Ledger.open(dir);
      expect(again.services.get(runId)).toEqual({
        since: 1000,
        readyAt: 7000,
        endpoint: 'http://127.0.0.1:40001',
        lastCheck: 'connection refused',
      });
      await again.services.moved(runId, 'http://127.0.0.1:40002');
      expect(again.services.get(runId)?.endpoint).toBe('http://127.0.0.1:40002');
      // The spec's service reads back from the store.
      expect(again.current('s1')?.spec.service).toEqual(service);
      again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ready without an earlier report notes the report too', async () => {
    const ledger = Ledger.inMemory();
    const { runId } = await ledger.intake({
      jid: 's2',
      spec: sampleSpec({ name: 's2', service }),
      fingerprint: 'f',
    });
    await ledger.services.ready(runId, 3000, undefined);
    expect(ledger.services.get(runId)).toMatchObject({
      since: 3000,
      readyAt: 3000,
      endpoint: null,
    });
  });
});
