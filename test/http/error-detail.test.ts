// Issue 10, item 12: the open probes and 500 answers carry no backend text (socket paths, storeBase
// paths, namespaces); the detail goes to the log, where the operator reads it.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import { BackendRefusedError, BackendUnavailableError } from '../../src/domain/errors.js';
import { BACKEND_REFUSED_TEXT } from '../../src/http/on-error.js';
import { testApp } from '../fixtures.js';

const SECRET_PATH = '/srv/very/private/storeBase';

function capturedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), text: () => lines.join('') };
}

describe('backend detail stays in the log', () => {
  it('GET /health and /health/ready say "unavailable", the log says why', async () => {
    const backend = new MemoryBackend();
    backend.ping = () =>
      Promise.reject(
        new BackendUnavailableError(`docker engine unreachable: connect ENOENT ${SECRET_PATH}`, {
          retryAfterSeconds: 7,
        }),
      );
    const { log, text } = capturedLog();
    const { app } = await testApp({ backend, log });
    const health = await app.request('/health');
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('{"status": "ok", "backend": "unavailable"}\n');
    const ready = await app.request('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('7');
    expect(await ready.text()).toBe('{"message": "unavailable"}\n');
    expect(text()).toContain(SECRET_PATH);
  });

  it('a deployment fault (BackendRefusedError) → 500 with a generic text, detail logged', async () => {
    const backend = new MemoryBackend();
    backend.read = () =>
      Promise.reject(
        new BackendRefusedError(`cannot read under storeBase: EACCES on ${SECRET_PATH}/key-x`),
      );
    const { log, text } = capturedLog();
    const { app } = await testApp({ backend, log });
    const res = await app.request('/api/v1/x/');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).toBe(`{"message": "${BACKEND_REFUSED_TEXT}"}\n`);
    expect(body).not.toContain(SECRET_PATH);
    expect(text()).toContain(`EACCES on ${SECRET_PATH}/key-x`);
  });
});
