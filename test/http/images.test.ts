// GET /api/v1/images/ (issue 15) through the whole app on the memory backend: the allow-list's
// lines and the local tags it admits (a memory backend given an images() call stands in for
// Docker), without an allow-list every local tag, a backend without images() says it does not
// list them, ?q=, the 400s naming a bad parameter, 503 when the engine is down, the token guard,
// HEAD, and every answer checked against /openapi.json.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/client/commands.js';
import { PmanClient } from '../../src/client/http.js';
import { listen } from '../../src/http/server.js';
import type { LocalImage } from '../../src/backends/backend.js';
import { MemoryBackend } from '../../src/backends/memory.js';
import { loadAuthenticator } from '../../src/http/auth.js';
import { parseAllowlist } from '../../src/domain/image-allowlist.js';
import { BackendUnavailableError } from '../../src/domain/errors.js';
import { testApp } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';
import { httpSettings } from './http-settings.js';
import { expectDocumented, fetchDoc } from './openapi-check.js';
import type { OpenApiDoc } from './openapi-check.js';

type Json = Record<string, unknown>;
const OCI = 'org.opencontainers.image.';

const HELD: LocalImage[] = [
  {
    reference: 'registry.example:5000/algo/denoise:1.0',
    id: `sha256:${'1'.repeat(64)}`,
    sizeBytes: 1234,
    created: '2026-01-02T03:04:05.000Z',
    labels: {
      [`${OCI}title`]: 'Denoise',
      [`${OCI}description`]: 'Removes noise',
      [`${OCI}version`]: '1.0.3',
      'com.example.other': 'left out',
    },
  },
  {
    reference: 'registry.example:5000/algo/align:2',
    id: `sha256:${'2'.repeat(64)}`,
    sizeBytes: 99,
    created: '2026-02-02T00:00:00.000Z',
    labels: { [`${OCI}title`]: 'Brain Align' },
  },
  {
    reference: 'busybox:latest',
    id: `sha256:${'3'.repeat(64)}`,
    sizeBytes: 5,
    created: '2025-01-01T00:00:00.000Z',
    labels: {},
  },
];

function allowlist(text: string): readonly string[] {
  const parsed = parseAllowlist(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.patterns;
}

/** A memory backend with Docker's images() call: what it lists is set by the test. */
class HoldingBackend extends MemoryBackend {
  images: () => Promise<LocalImage[]>;
  constructor(images: readonly LocalImage[]) {
    super();
    this.images = () => Promise.resolve(images.map((i) => ({ ...i })));
  }
}

function holding(images: readonly LocalImage[]): HoldingBackend {
  return new HoldingBackend(images);
}

async function get(t: TestApp, doc: OpenApiDoc, path: string): Promise<Response> {
  const res = await t.app.request(path);
  await expectDocumented(doc, 'GET', path, res.clone());
  return res;
}

async function catalogue(t: TestApp, doc: OpenApiDoc, query = ''): Promise<Json> {
  const res = await get(t, doc, `/api/v1/images/${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

const refs = (body: Json) => (body.images as Json[]).map((i) => i.reference);

describe('GET /api/v1/images/ with IMAGE_ALLOWLIST', () => {
  const imageAllowlist = allowlist(
    'registry.example:5000/algo/*\nfnndsc/pl-dircopy\nbusybox:1.36\n',
  );

  it('lists each line with its kind and each local tag it admits, with the OCI labels', async () => {
    const t = await testApp({ backend: holding(HELD), config: { imageAllowlist } });
    const doc = await fetchDoc(t.app);
    const body = await catalogue(t, doc);
    expect(body.container_env).toBe('memory');
    expect(body.allowlist).toEqual([
      { pattern: 'registry.example:5000/algo/*', kind: 'pattern' },
      { pattern: 'docker.io/fnndsc/pl-dircopy', kind: 'repository' },
      { pattern: 'docker.io/library/busybox:1.36', kind: 'exact' },
    ]);
    expect(body).not.toHaveProperty('local_images_unavailable');
    // busybox:latest is held but not admitted (only busybox:1.36 is): left out.
    expect(refs(body)).toEqual([
      'docker.io/fnndsc/pl-dircopy',
      'docker.io/library/busybox:1.36',
      'registry.example:5000/algo/*',
      'registry.example:5000/algo/align:2',
      'registry.example:5000/algo/denoise:1.0',
    ]);
    expect((body.images as Json[])[4]).toEqual({
      source: 'local',
      reference: 'registry.example:5000/algo/denoise:1.0',
      id: `sha256:${'1'.repeat(64)}`,
      size_bytes: 1234,
      created: '2026-01-02T03:04:05.000Z',
      title: 'Denoise',
      description: 'Removes noise',
      version: '1.0.3',
      labels: {
        [`${OCI}description`]: 'Removes noise',
        [`${OCI}title`]: 'Denoise',
        [`${OCI}version`]: '1.0.3',
      },
      allowed_by: 'registry.example:5000/algo/*',
    });
    expect((body.images as Json[])[0]).toEqual({
      source: 'allowlist',
      reference: 'docker.io/fnndsc/pl-dircopy',
      kind: 'repository',
    });
  });

  it('?q= filters by reference or title in any case; the allow-list stays whole', async () => {
    const t = await testApp({ backend: holding(HELD), config: { imageAllowlist } });
    const doc = await fetchDoc(t.app);
    const byTitle = await catalogue(t, doc, '?q=brain%20ALIGN');
    expect(refs(byTitle)).toEqual(['registry.example:5000/algo/align:2']);
    expect(byTitle.allowlist).toHaveLength(3);
    expect(refs(await catalogue(t, doc, '?q=Dircopy'))).toEqual(['docker.io/fnndsc/pl-dircopy']);
    expect(refs(await catalogue(t, doc, '?q=nothing-like-this'))).toEqual([]);
  });

  it('on a backend without images(): the lines only, and says local images are not listed', async () => {
    const t = await testApp({ config: { imageAllowlist } });
    const doc = await fetchDoc(t.app);
    const body = await catalogue(t, doc);
    expect(body.local_images_unavailable).toBe('the memory backend does not list local images');
    expect((body.images as Json[]).map((i) => i.source)).toEqual([
      'allowlist',
      'allowlist',
      'allowlist',
    ]);
  });
});

describe('GET /api/v1/images/ without IMAGE_ALLOWLIST', () => {
  it('lists every local tag and says the list is no limit (allowlist null)', async () => {
    const t = await testApp({ backend: holding(HELD) });
    const doc = await fetchDoc(t.app);
    const body = await catalogue(t, doc);
    expect(body.allowlist).toBeNull();
    expect(refs(body)).toEqual([
      'busybox:latest',
      'registry.example:5000/algo/align:2',
      'registry.example:5000/algo/denoise:1.0',
    ]);
    expect((body.images as Json[]).map((i) => i.allowed_by)).toEqual([null, null, null]);
    expect((body.images as Json[])[0]).toMatchObject({ title: null, labels: {} });
  });

  it('on a backend without images(): an empty list that says why', async () => {
    const t = await testApp();
    const doc = await fetchDoc(t.app);
    expect(await catalogue(t, doc)).toEqual({
      container_env: 'memory',
      allowlist: null,
      local_images_unavailable: 'the memory backend does not list local images',
      images: [],
    });
  });
});

describe('GET /api/v1/images/ refusals and failures', () => {
  it('400 naming an unknown, repeated or empty parameter', async () => {
    const t = await testApp({ backend: holding(HELD) });
    const doc = await fetchDoc(t.app);
    const problem = async (query: string) => {
      const res = await get(t, doc, `/api/v1/images/${query}`);
      expect(res.status).toBe(400);
      return ((await res.json()) as { message: Json }).message;
    };
    expect(await problem('?name=x')).toEqual({ name: 'is not a parameter of this route (q)' });
    expect(await problem('?q=a&q=b')).toEqual({ q: 'may be given once' });
    expect(await problem('?q=')).toEqual({ q: 'must not be empty' });
  });

  it('503 with Retry-After when the engine cannot be reached', async () => {
    const backend = holding(HELD);
    backend.images = () =>
      Promise.reject(new BackendUnavailableError('docker engine unreachable: ECONNREFUSED'));
    const t = await testApp({ backend });
    const doc = await fetchDoc(t.app);
    const res = await get(t, doc, '/api/v1/images/');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
  });

  it('another failure to list still answers the allow-list and says why (never a 500)', async () => {
    const backend = holding(HELD);
    backend.images = () => Promise.reject(new Error('images: permission denied'));
    const t = await testApp({ backend, config: { imageAllowlist: allowlist('busybox:1.36') } });
    const doc = await fetchDoc(t.app);
    const body = await catalogue(t, doc);
    expect(body.local_images_unavailable).toBe('images: permission denied');
    expect(refs(body)).toEqual(['docker.io/library/busybox:1.36']);
  });

  it('answers HEAD with the headers and no body', async () => {
    const t = await testApp({ backend: holding(HELD) });
    const res = await t.app.request('/api/v1/images/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.text()).toBe('');
  });

  it('308s the slash-less path, like every route', async () => {
    const t = await testApp();
    const res = await t.app.request('/api/v1/images?q=x');
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toMatch(/\/api\/v1\/images\/\?q=x$/);
  });
});

describe('GET /api/v1/images/ behind the token', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pman-ts-images-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('401 without a token, 200 with one', async () => {
    const tokenPath = join(dir, 'tokens.txt');
    await writeFile(tokenPath, 'images-token-0123456789\n');
    const auth = { enabled: true, tokenPath } as const;
    const authenticator = await loadAuthenticator(auth);
    const t = await testApp({ backend: holding(HELD), config: { auth }, authenticator });
    expect((await t.app.request('/api/v1/images/')).status).toBe(401);
    const ok = await t.app.request('/api/v1/images/', {
      headers: { Authorization: 'Bearer images-token-0123456789' },
    });
    expect(ok.status).toBe(200);
  });
});

describe('pman images against a running server', () => {
  it('prints the catalogue as a table, ?q= through --q, --json the answer, a 400 as exit 1', async () => {
    const t = await testApp({
      backend: holding(HELD),
      config: { imageAllowlist: allowlist('registry.example:5000/algo/*') },
    });
    const server = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: httpSettings(),
      fetch: t.app.fetch,
      log: pino({ level: 'silent' }),
    });
    const client = new PmanClient({ url: `http://127.0.0.1:${server.port}` });
    const run = async (q: string | undefined, json = false) => {
      let out = '';
      let err = '';
      const code = await runCommand(
        { name: 'images', json, ...(q !== undefined && { q }) },
        client,
        {
          stdout: (text) => (out += typeof text === 'string' ? text : Buffer.from(text).toString()),
          stderr: (text) => (err += text),
          isTTY: false,
          now: () => new Date('2026-02-02T00:05:00Z'),
          readInput: () => Promise.resolve(''),
        },
      );
      return { code, out, err };
    };
    try {
      const all = await run(undefined);
      expect(all.code).toBe(0);
      expect(all.out.split('\n').map((line) => line.split(/\s{2,}/)[0])).toEqual([
        'REFERENCE',
        'registry.example:5000/algo/*',
        'registry.example:5000/algo/align:2',
        'registry.example:5000/algo/denoise:1.0',
        '',
      ]);
      expect(all.out).toMatch(/align:2 +local +Brain Align +99 B +5m00s\n/);
      const found = await run('denoise', true);
      expect(found.code).toBe(0);
      const body = JSON.parse(found.out) as Json;
      expect(refs(body)).toEqual(['registry.example:5000/algo/denoise:1.0']);
      const bad = await run('');
      expect(bad).toMatchObject({ code: 1, err: 'pman: q: must not be empty\n' });
    } finally {
      server.server.closeAllConnections();
      await new Promise((resolve) => server.server.close(resolve));
    }
  });
});
