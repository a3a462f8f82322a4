// Issue 15's `service` create field on the wire, its domain form, the stored spec, and the job
// object's `endpoint` key (service jobs only: batch jobs keep pman's seven keys).
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/domain/job.js';
import { toJobSpec } from '../../src/domain/spec.js';
import { parseJobControl } from '../../src/http/wire/job-control.js';
import { parseCreateRequest } from '../../src/http/wire/request.js';
import { toWire, toWireSummary } from '../../src/http/wire/response.js';
import { parseJobSpec } from '../../src/store/job-spec.js';
import { sampleBody, validationFields } from '../fixtures.js';

const MEMORY_RULE = { pattern: /^[^/]+$/, maxLength: 63, rule: 'any' };

const bundleOf = validationFields;

describe('the service field', () => {
  it('reads port, health_path and type into domain terms; type defaults to ClusterIP', () => {
    expect(parseJobControl({ service: { port: 8080 } })).toEqual({
      service: { port: 8080, exposure: 'ClusterIP' },
    });
    expect(
      parseJobControl({ service: { port: 80, health_path: '/healthz?deep=1', type: 'NodePort' } }),
    ).toEqual({ service: { port: 80, healthPath: '/healthz?deep=1', exposure: 'NodePort' } });
    expect(parseJobControl({ service: null })).toEqual({});
  });

  it.each([
    [{ port: 0 }, 'port: must be a TCP port from 1 to 65535, got 0'],
    [{ port: 65536 }, 'port: must be a TCP port from 1 to 65535, got 65536'],
    [{ port: 80.5 }, 'port: must be an integer'],
    [{ port: '80' }, 'port: must be an integer'],
    [{}, 'port: required: the container port the server listens on (1 to 65535)'],
    [{ port: 80, health_path: 'healthz' }, 'health_path: must be a URL path starting with "/"'],
    [{ port: 80, health_path: '/a b' }, 'health_path: must be a URL path starting with "/"'],
    [{ port: 80, type: 'LoadBalancer' }, 'type: must be "ClusterIP" or "NodePort"'],
    [{ port: 80, prot: 1 }, 'unknown field(s) prot'],
    [8080, 'must be an object such as {"port": 8080'],
  ])('refuses %j naming what to fix', (service, text) => {
    expect(bundleOf(() => parseJobControl({ service })).service).toContain(text);
  });

  it('refuses retries together with a service', () => {
    const fields = bundleOf(() =>
      parseJobControl({ service: { port: 80 }, retries: { limit: 1 } }),
    );
    expect(fields.retries).toMatch(/cannot be combined with service/);
    expect(fields.service).toBeUndefined();
  });

  it('reaches the JobSpec and reads back from the store unchanged', () => {
    const req = parseCreateRequest(
      { ...sampleBody(), service: { port: 8080, health_path: '/ok' } },
      {},
      MEMORY_RULE,
      'memory',
    );
    const spec = toJobSpec(
      req,
      { homeWorkaround: false, jobLabels: {} },
      {
        type: 'host',
        storeBase: '/store',
      },
    );
    expect(spec.service).toEqual({ port: 8080, healthPath: '/ok', exposure: 'ClusterIP' });
    expect(parseJobSpec(JSON.stringify(spec))).toEqual(spec);
  });
});

describe('the endpoint key', () => {
  const batch: JobInfo = {
    name: 'j1',
    image: 'img',
    command: ['httpd'],
    status: 'started',
    message: 'running',
    timestamp: '2026-12-05T00:00:00Z',
  };

  it('is absent from a batch job: pman’s seven keys', () => {
    expect(Object.keys(toWire(batch, '', 'plain'))).toEqual([
      'jid',
      'image',
      'cmd',
      'status',
      'message',
      'timestamp',
      'logs',
    ]);
  });

  it('comes last on a service job, null until the backend has one', () => {
    const waiting = toWire({ ...batch, service: {} }, '', 'plain');
    expect(Object.keys(waiting).at(-1)).toBe('endpoint');
    expect(waiting.endpoint).toBeNull();
    const serving = { ...batch, service: { endpoint: 'http://127.0.0.1:49153' } };
    expect(toWire(serving, 'x', 'plain').endpoint).toBe('http://127.0.0.1:49153');
    expect(toWireSummary(serving, 'plain').endpoint).toBe('http://127.0.0.1:49153');
  });
});
