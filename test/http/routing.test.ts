// The route table answers exactly api.md §2.1's path grammar: random raw paths through the whole
// app against a reference model of the rules (the hand matcher the table replaced), plus Allow.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowedMethods } from '../../src/http/router.js';
import type { Handler, Route } from '../../src/http/router.js';
import { testApp } from '../fixtures.js';

type Model =
  | { kind: 'route'; route: 'root' | 'jobs' | 'job' | 'logs' | 'health' | 'ready'; jid?: string }
  | { kind: 'redirect'; path: string }
  | { kind: 'unknown' };

const API = '/api/v1/';

/** §2.1: <jid> is one percent-decoded segment, a malformed escape kept literally, leading '/' stripped. */
function decode(segment: string): string {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // literal
  }
  return decoded.replace(/^\/+/, '');
}

/** The canonical routes of §2, written out segment by segment. */
function canonical(path: string): Model | undefined {
  if (path === '/health') return { kind: 'route', route: 'health' };
  if (path === '/health/ready') return { kind: 'route', route: 'ready' };
  if (!path.startsWith(API) || !path.endsWith('/')) return undefined;
  const segments = path.slice(API.length, -1).split('/');
  const [first, second, ...rest] = segments;
  if (first === '' && segments.length === 1) return { kind: 'route', route: 'root' };
  if (first === undefined || first === '' || rest.length > 0) return undefined;
  if (second === undefined) {
    return first === 'jobs'
      ? { kind: 'route', route: 'jobs' }
      : { kind: 'route', route: 'job', jid: decode(first) };
  }
  return second === 'logs' ? { kind: 'route', route: 'logs', jid: decode(first) } : undefined;
}

/** §2.1: doubled slashes collapse (308), a missing final slash of a known route is added (308). */
function model(raw: string): Model {
  const collapsed = raw.replace(/\/{2,}/g, '/');
  const route = canonical(collapsed);
  if (route !== undefined) return collapsed === raw ? route : { kind: 'redirect', path: collapsed };
  if (!collapsed.endsWith('/') && canonical(collapsed + '/') !== undefined) {
    return { kind: 'redirect', path: collapsed + '/' };
  }
  return collapsed === raw ? { kind: 'unknown' } : { kind: 'redirect', path: collapsed };
}

const ALLOW = {
  root: 'GET, HEAD, OPTIONS, POST',
  job: 'DELETE, GET, HEAD, OPTIONS',
  jobs: 'GET, HEAD, OPTIONS',
  logs: 'GET, HEAD, OPTIONS',
  health: 'GET, HEAD, OPTIONS',
  ready: 'GET, HEAD, OPTIONS',
} as const;

/** Segments that exercise the grammar: route words, escapes (good, malformed, %2F), odd characters. */
const SEGMENT = fc.constantFrom(
  'api',
  'v1',
  'jobs',
  'logs',
  'health',
  'ready',
  'x',
  '',
  '%2F',
  '%2Fx',
  '%2F%2Fchris%2Djid%2D1',
  'a%2Fb',
  '%6Aobs',
  '%6Cogs',
  '%zz',
  'a%zz%41',
  '%E2%9C%93',
  '%FF',
  ':jid',
  '*',
  '(x)',
  'a.b',
);

/** Raw paths as a client sends them; half of them start with the API prefix. */
const RAW_PATH = fc
  .tuple(fc.boolean(), fc.array(SEGMENT, { maxLength: 4 }), fc.boolean())
  .map(([api, segments, slash]) => {
    const path = (api ? '/api/v1/' : '/') + segments.join('/');
    return slash && !path.endsWith('/') ? path + '/' : path;
  });

describe('routing on the raw path (api.md §2.1)', () => {
  it('every raw path gets the route, 308 or 404 the rules give it', async () => {
    const { app } = await testApp();
    await fc.assert(
      fc.asyncProperty(RAW_PATH, async (raw) => {
        const expected = model(raw);
        const options = await app.request(raw, { method: 'OPTIONS' });
        if (expected.kind === 'redirect') {
          expect(options.status).toBe(308);
          expect(options.headers.get('location')).toBe(`http://localhost${expected.path}`);
        } else if (expected.kind === 'unknown') {
          expect(options.status).toBe(404);
        } else {
          expect(options.status).toBe(200);
          expect(options.headers.get('allow')).toBe(ALLOW[expected.route]);
          if (expected.jid !== undefined) {
            // No job exists, so a GET names the decoded jid in its 404.
            const res = await app.request(raw);
            expect(res.status).toBe(404);
            expect(await res.json()).toEqual({ message: `job "${expected.jid}" not found` });
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a decoded jid that spells a route word is still a jid, not that route', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/%6Aobs/');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"message": "job \\"jobs\\" not found"}\n');
    expect((await app.request('/api/v1/x/%6Cogs/')).status).toBe(404);
  });

  it('one malformed escape keeps the whole jid literal (Hono would decode the rest)', async () => {
    const { app } = await testApp();
    expect(await (await app.request('/api/v1/a%zz%41/')).json()).toEqual({
      message: 'job "a%zz%41" not found',
    });
  });
});

describe('allowedMethods: the Allow header is derived from a route’s handlers', () => {
  const handler: Handler = () => Promise.resolve(new Response(null));
  const route = (handlers: Route['handlers']): Route => ({ name: 'r', path: '/r', handlers });

  it('adds HEAD wherever GET is, OPTIONS always, in the fixed order', () => {
    expect(allowedMethods(route({ GET: handler }))).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(allowedMethods(route({ POST: handler, DELETE: handler }))).toEqual([
      'DELETE',
      'OPTIONS',
      'POST',
    ]);
    expect(allowedMethods(route({}))).toEqual(['OPTIONS']);
  });
});
