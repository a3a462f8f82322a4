// The one presentation rule of service jobs (issue 15, services/presented.ts): waiting for the
// health check until ready, the endpoint only once ready, started through engine restarts, and
// no endpoint once ended.
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/domain/job.js';
import { presentService, WAITING_FOR_HEALTH_TEXT } from '../../src/service/services/presented.js';

const EP = 'http://127.0.0.1:40001';

function info(over: Partial<JobInfo>): JobInfo {
  return {
    name: 'svc',
    image: 'img',
    command: ['httpd'],
    status: 'started',
    message: 'running',
    timestamp: '2026-01-01T00:00:00.000Z',
    service: { endpoint: EP },
    ...over,
  };
}

describe('presentService', () => {
  it('a running service not ready yet: notstarted, waiting for health check, no endpoint', () => {
    const shown = presentService(info({}), { ready: false });
    expect(shown).toMatchObject({ status: 'notstarted', message: WAITING_FOR_HEALTH_TEXT });
    expect(shown.service).toEqual({});
    expect(WAITING_FOR_HEALTH_TEXT).toBe('waiting for health check');
  });

  it("one the backend has not started keeps the backend's message, no endpoint", () => {
    const shown = presentService(info({ status: 'notstarted', message: 'pulling image' }), {
      ready: false,
    });
    expect(shown).toMatchObject({ status: 'notstarted', message: 'pulling image', service: {} });
  });

  it('a ready one is started with its endpoint and the backend message, also while restarted', () => {
    expect(presentService(info({}), { ready: true })).toMatchObject({
      status: 'started',
      message: 'running',
      service: { endpoint: EP },
    });
    const restarting = info({
      message: 'restarting after exit code 1 (2 restarts)',
      service: { endpoint: EP, restarts: 2 },
    });
    expect(presentService(restarting, { ready: true })).toMatchObject({
      status: 'started',
      message: 'restarting after exit code 1 (2 restarts)',
      service: { endpoint: EP, restarts: 2 },
    });
  });

  it("the store's own answer of a ready service carries the stored endpoint", () => {
    const stored = info({ service: {} });
    expect(presentService(stored, { ready: true, endpoint: EP }).service).toEqual({
      endpoint: EP,
    });
    // The backend's endpoint wins over the stored one.
    const moved = presentService(info({}), { ready: true, endpoint: 'http://127.0.0.1:1' });
    expect(moved.service?.endpoint).toBe(EP);
  });

  it('an ended one is as the backend says, without its endpoint', () => {
    const ended = info({ status: 'finishedWithError', message: 'exited with code 143' });
    for (const ready of [true, false]) {
      const shown = presentService(ended, { ready, endpoint: EP });
      expect(shown).toMatchObject({ status: 'finishedWithError', message: 'exited with code 143' });
      expect(shown.service).toEqual({});
    }
  });

  it('adds the service view to an info that had none, and is idempotent', () => {
    const bare = info({ status: 'notstarted', message: 'queued' });
    delete bare.service;
    expect(presentService(bare, { ready: false }).service).toEqual({});
    const once = presentService(info({}), { ready: false });
    expect(presentService(once, { ready: false })).toEqual(once);
    const ready = presentService(info({}), { ready: true });
    expect(presentService(ready, { ready: true })).toEqual(ready);
  });
});
