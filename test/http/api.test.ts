// Every route, status and text of api.md through app.request() with the MemoryBackend.
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MEMORY_CAPABILITIES, MemoryBackend } from '../../src/backends/memory.js';
import { FIELD_ORDER } from '../../src/http/wire/fields.js';
import { httpSettings } from './http-settings.js';
import { expectDocumented, fetchDoc } from './openapi-check.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { Ledger } from '../../src/store/ledger.js';
import { postJson, sampleBody, statusOf, testApp } from '../fixtures.js';

const NOW = '2024-05-07T15:02:11.000Z';
const clockBackend = () => new MemoryBackend({ now: () => new Date(NOW) });
const NOT_FOUND_ROUTE =
  '{"message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}\n';

async function text(res: Response | Promise<Response>): Promise<string> {
  return (await res).text();
}

describe('GET /api/v1/ (server info, §4)', () => {
  it('answers the three keys with pman bytes and a bare application/json', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(
      '{"server_version": "0.1.0", "container_env": "memory", "storage_type": "host"}\n',
    );
  });

  it('HEAD has the same status and headers without a body', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('');
  });

  it('pretty-prints with 4 spaces in development mode', async () => {
    const { app } = await testApp({ config: { mode: 'development' } });
    expect(await text(app.request('/api/v1/'))).toBe(
      '{\n    "server_version": "0.1.0",\n    "container_env": "memory",\n    "storage_type": "host"\n}\n',
    );
  });
});

describe('path rules (§2.1)', () => {
  it.each([
    ['/api/v1/', 'GET, HEAD, OPTIONS, POST'],
    ['/api/v1/chris-jid-1/', 'DELETE, GET, HEAD, OPTIONS'],
    ['/api/v1/jobs/', 'GET, HEAD, OPTIONS'],
    ['/api/v1/chris-jid-1/logs/', 'GET, HEAD, OPTIONS'],
  ])('OPTIONS %s → 200, empty body, Allow in the fixed order', async (path, allow) => {
    const { app } = await testApp();
    const res = await app.request(path, { method: 'OPTIONS' });
    expect(res.status).toBe(200);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.text()).toBe('');
  });

  it.each([
    ['PUT', '/api/v1/', 'GET, HEAD, OPTIONS, POST'],
    ['DELETE', '/api/v1/', 'GET, HEAD, OPTIONS, POST'],
    ['POST', '/api/v1/chris-jid-1/', 'DELETE, GET, HEAD, OPTIONS'],
    ['PATCH', '/api/v1/chris-jid-1/', 'DELETE, GET, HEAD, OPTIONS'],
    ['DELETE', '/api/v1/jobs/', 'GET, HEAD, OPTIONS'],
    ['POST', '/api/v1/x/logs/', 'GET, HEAD, OPTIONS'],
  ])('%s %s → 405 JSON with Allow', async (method, path, allow) => {
    const { app } = await testApp();
    const res = await app.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(
      '{"message": "The method is not allowed for the requested URL."}\n',
    );
  });

  it.each(['/', '/api/v2/', '/api/v1/a/b/', '/api/v1/a/logs/x/', '/health/', '/api/', '/apiv1/'])(
    'unknown path %s → JSON 404',
    async (path) => {
      const { app } = await testApp();
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.text()).toBe(NOT_FOUND_ROUTE);
    },
  );

  it.each([
    ['GET', '/api/v1', 'http://localhost/api/v1/'],
    ['POST', '/api/v1', 'http://localhost/api/v1/'],
    ['DELETE', '/api/v1/chris-jid-1', 'http://localhost/api/v1/chris-jid-1/'],
    ['GET', '/api/v1/jobs', 'http://localhost/api/v1/jobs/'],
    ['GET', '/api/v1/x/logs', 'http://localhost/api/v1/x/logs/'],
    ['GET', '/api/v1/jobs?status=started', 'http://localhost/api/v1/jobs/?status=started'],
    ['GET', '/api/v1//', 'http://localhost/api/v1/'],
    ['GET', '/api//v1///x//', 'http://localhost/api/v1/x/'],
    ['PUT', '/api/v1//jobs', 'http://localhost/api/v1/jobs/'],
    ['GET', '/api/v1/%2Fx?a=1&b=%20', 'http://localhost/api/v1/%2Fx/?a=1&b=%20'],
  ])('%s %s → 308 to the absolute %s', async (method, path, location) => {
    const { app } = await testApp();
    const res = await app.request(path, { method });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe(location);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain(`href="${location.replace(/&/g, '&#38;')}"`);
  });

  it('builds the Location from the Host header (an allowed one: test/http/host-check.test.ts)', async () => {
    const { app } = await testApp({ config: { http: httpSettings({ allowedHosts: ['pman'] }) } });
    const res = await app.request('/api/v1', { headers: { Host: 'pman:5010' } });
    expect(res.headers.get('location')).toBe('http://pman:5010/api/v1/');
  });

  it('a path without its slash that is no route is 404, not 308', async () => {
    const { app } = await testApp();
    expect((await app.request('/api/v1/a/b')).status).toBe(404);
    expect((await app.request('/health/ready/')).status).toBe(404);
  });

  it('a jid is one percent-decoded segment with leading slashes stripped', async () => {
    const { app } = await testApp();
    expect((await postJson(app, sampleBody({ jid: 'chris-jid-1' }))).status).toBe(201);
    for (const path of ['/api/v1/%2Fchris-jid-1/', '/api/v1/%2F%2Fchris%2Djid%2D1/']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { jid: string }).jid).toBe('chris-jid-1');
    }
  });
});

describe('POST /api/v1/ body format (§5.1)', () => {
  it.each([undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx'])(
    'Content-Type %s → 415',
    async (type) => {
      const { app } = await testApp();
      const res = await app.request('/api/v1/', {
        method: 'POST',
        headers: type === undefined ? {} : { 'Content-Type': type },
        body: JSON.stringify(sampleBody()),
      });
      expect(res.status).toBe(415);
      expect(await res.text()).toBe(
        `{"message": "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."}\n`,
      );
    },
  );

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.pman+json'])(
    'Content-Type %s is JSON',
    async (type) => {
      const { app } = await testApp();
      const res = await app.request('/api/v1/', {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: JSON.stringify(sampleBody()),
      });
      expect(res.status).toBe(201);
    },
  );

  it('a body over 1 MiB → 413', async () => {
    const { app } = await testApp();
    const res = await postJson(app, sampleBody({ padding: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.text()).toBe('{"message": "Request body too large (limit 1 MiB)."}\n');
  });

  it('a streamed body without Content-Length is counted → 413', async () => {
    const { app } = await testApp();
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await app.request(
      new Request('http://localhost/api/v1/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        duplex: 'half',
      }),
    );
    expect(res.status).toBe(413);
  });

  it.each(['', '{', '{"jid": }', 'nope', '{"a": 1,}'])(
    'malformed JSON %j → 400 with the detail',
    async (raw) => {
      const { app } = await testApp();
      const res = await app.request('/api/v1/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: raw,
      });
      expect(res.status).toBe(400);
      const { message } = (await res.json()) as { message: string };
      expect(message).toMatch(/^Failed to decode JSON object: .+/);
    },
  );

  it.each(['[]', '"x"', '42', 'null', 'true'])(
    'JSON %s that is not an object → 400',
    async (raw) => {
      const { app } = await testApp();
      const res = await app.request('/api/v1/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: raw,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toBe('{"message": "The request body must be a JSON object."}\n');
    },
  );
});

describe('POST /api/v1/ create (§5, §8)', () => {
  it('201 with the job object, status notstarted and empty logs', async () => {
    const { app } = await testApp({ backend: clockBackend() });
    const res = await postJson(app, sampleBody());
    expect(res.status).toBe(201);
    await expectDocumented(await fetchDoc(app), 'POST', '/api/v1/', res);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(
      '{"jid": "chris-jid-42", "image": "ghcr.io/fnndsc/pl-simpledsapp:2.1.0", ' +
        '"cmd": "simpledsapp --saveinputmeta --saveoutputmeta --prefix hello_ /share/incoming /share/outgoing", ' +
        `"status": "notstarted", "message": "created", "timestamp": "${NOW}", "logs": ""}\n`,
    );
  });

  it('{} → the bundle of the twelve required fields in pman order', async () => {
    const { app } = await testApp();
    const res = await postJson(app, {});
    expect(res.status).toBe(400);
    await expectDocumented(await fetchDoc(app), 'POST', '/api/v1/', res);
    const { message } = (await res.json()) as { message: Record<string, string> };
    expect(Object.keys(message)).toEqual(FIELD_ORDER.filter((f) => f !== 'args_path_flags'));
    expect(message.args).toBe('Missing required parameter in the JSON body');
    expect(message.jid).toBe(
      'Missing required parameter in the JSON body or the post body or the query string',
    );
  });

  it('the bundle is indented too in development mode', async () => {
    const { app } = await testApp({ config: { mode: 'development' } });
    const { jid: _jid, ...withoutJid } = sampleBody();
    const res = await postJson(app, withoutJid);
    expect(await res.text()).toBe(
      '{\n    "message": {\n        "jid": "Missing required parameter in the JSON body or the post body or the query string"\n    }\n}\n',
    );
  });

  it('reads default-location fields from the query string', async () => {
    const { app } = await testApp();
    const { jid: _jid, ...withoutJid } = sampleBody();
    const res = await postJson(app, withoutJid, '/api/v1/?jid=chris-jid-7');
    expect(res.status).toBe(201);
    expect(((await res.json()) as { jid: string }).jid).toBe('chris-jid-7');
  });

  it('accepts the pman 3 HTTPie body, every value a string (§5.5)', async () => {
    const { app } = await testApp();
    const res = await postJson(app, {
      cmd_args: '--saveinputmeta --saveoutputmeta --dir cube/uploads',
      cmd_path_flags: '--dir',
      auid: 'cube',
      number_of_workers: '1',
      cpu_limit: '1000',
      memory_limit: '200',
      gpu_limit: '0',
      image: 'fnndsc/pl-dircopy',
      selfexec: 'dircopy',
      selfpath: '/usr/local/bin',
      execshell: 'python',
      type: 'fs',
      jid: 'chris-jid-1',
    });
    expect(res.status).toBe(201);
    const job = (await res.json()) as Record<string, string>;
    expect(job.cmd).toBe(
      'python /usr/local/bin/dircopy --saveinputmeta --saveoutputmeta --dir /share/incoming /share/outgoing',
    );
  });

  it('a reserved or invalid jid → 400 in the bundle, before the backend', async () => {
    const { app, backend } = await testApp();
    for (const jid of ['jobs', 'a/b']) {
      const res = await postJson(app, sampleBody({ jid }));
      expect(res.status).toBe(400);
      expect(Object.keys(((await res.json()) as { message: object }).message)).toEqual(['jid']);
    }
    expect(await backend.list()).toEqual([]);
  });

  it('empty entrypoint and bad env are plain-string 400s', async () => {
    const { app } = await testApp();
    expect(await text(postJson(app, sampleBody({ entrypoint: [] })))).toBe(
      '{"message": "\\"entrypoint\\" cannot be empty"}\n',
    );
    expect(await text(postJson(app, sampleBody({ env: ['NOEQUALS'] })))).toBe(
      '{"message": "\\"env\\" must be a list of \\"key=value\\" strings"}\n',
    );
  });

  it('a capability the backend lacks → 400 with pman text', async () => {
    class OneWorker extends MemoryBackend {
      override readonly capabilities = { ...MEMORY_CAPABILITIES, maxWorkers: 1 };
    }
    const { app } = await testApp({ backend: new OneWorker() });
    const res = await postJson(app, sampleBody({ number_of_workers: 2 }));
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(
      '{"message": "Compute environment only supports number_of_workers=1, got number_of_workers=2"}\n',
    );
  });

  it('a duplicate jid → 409 and the first job is untouched', async () => {
    const { app, backend } = await testApp();
    expect((await postJson(app, sampleBody())).status).toBe(201);
    backend.start('chris-jid-42');
    const res = await postJson(app, sampleBody({ image: 'other:1' }));
    expect(res.status).toBe(409);
    expect(await res.text()).toBe('{"message": "job \\"chris-jid-42\\" already exists"}\n');
    expect((await statusOf(backend, 'chris-jid-42')).status).toBe('started');
  });

  it('a jid known only from a terminal record → 409', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 0);
    expect((await app.request('/api/v1/chris-jid-42/')).status).toBe(200);
    backend.vanish('chris-jid-42');
    expect((await postJson(app, sampleBody())).status).toBe(409);
  });

  it('20 concurrent POSTs of one jid → exactly one 201, the rest 409', async () => {
    const { app } = await testApp();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => postJson(app, sampleBody()).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
  });

  it('concurrent creates of one jid reach the backend once, even while its create is slow', async () => {
    // A backend that cannot see its own in-flight creates (as a Docker pull in progress could not).
    let calls = 0;
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class SlowCreate extends MemoryBackend {
      override async create(spec: JobSpec): Promise<JobInfo> {
        calls++;
        if (calls > 1) release(); // a second call is already the failure: do not hang
        await gate;
        return super.create(spec);
      }
    }
    const { app } = await testApp({ backend: new SlowCreate() });
    let settled = 0;
    const requests = Array.from({ length: 20 }, () =>
      postJson(app, sampleBody()).then((r) => {
        if (++settled === 19) release();
        return r.status;
      }),
    );
    const statuses = await Promise.all(requests);
    expect(calls).toBe(1);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  });
});

describe('POST /api/v1/ with storeBase visible (§7.1)', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });
  async function storeBase(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'pman-ts-storebase-'));
    roots.push(root);
    return root;
  }

  it('a missing input_dir → 400 and no job', async () => {
    const root = await storeBase();
    const { app, backend } = await testApp({ storeBaseCheck: root });
    const res = await postJson(app, sampleBody());
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"message": {"input_dir": "does not exist under storeBase"}}\n');
    expect(await backend.list()).toEqual([]);
  });

  it('an existing input_dir → 201 and the output dir is created', async () => {
    const root = await storeBase();
    await mkdir(join(root, 'key-chris-jid-42', 'incoming'), { recursive: true });
    const { app } = await testApp({ storeBaseCheck: root });
    expect((await postJson(app, sampleBody())).status).toBe(201);
    expect((await stat(join(root, 'key-chris-jid-42', 'outgoing'))).isDirectory()).toBe(true);
  });

  it('"../../etc" → 400 with the path rule', async () => {
    const root = await storeBase();
    const { app } = await testApp({ storeBaseCheck: root });
    const res = await postJson(app, sampleBody({ input_dir: '../../etc' }));
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(
      `{"message": {"input_dir": "must be a relative path under storeBase without empty, '.' or '..' segments"}}\n`,
    );
  });
});

describe('GET /api/v1/<jid>/ (§8-10)', () => {
  it('follows the job from notstarted to a terminal status', async () => {
    const { app, backend } = await testApp({ backend: clockBackend() });
    await postJson(app, sampleBody());
    const get = async () =>
      (await app.request('/api/v1/chris-jid-42/')).json() as Promise<Record<string, string>>;
    expect(await get()).toMatchObject({ status: 'notstarted', message: 'created', logs: '' });
    backend.start('chris-jid-42', 'hello\n');
    expect(await get()).toMatchObject({ status: 'started', message: 'running', logs: 'hello\n' });
    backend.finish('chris-jid-42', 3, 'hello\nbye é\n');
    const res = await app.request('/api/v1/chris-jid-42/');
    expect(await res.text()).toBe(
      '{"jid": "chris-jid-42", "image": "ghcr.io/fnndsc/pl-simpledsapp:2.1.0", ' +
        '"cmd": "simpledsapp --saveinputmeta --saveoutputmeta --prefix hello_ /share/incoming /share/outgoing", ' +
        `"status": "finishedWithError", "message": "exited with code 3", "timestamp": "${NOW}", "logs": "hello\\nbye \\u00e9\\n"}\n`,
    );
  });

  it('the log tail follows JOB_LOGS_TAIL and JOB_LOGS_MAX_BYTES', async () => {
    const { app, backend } = await testApp({ config: { logsTail: 2, logsMaxBytes: 6 } });
    await postJson(app, sampleBody());
    backend.start('chris-jid-42', 'one\ntwo\nthree\n');
    expect(
      ((await (await app.request('/api/v1/chris-jid-42/')).json()) as { logs: string }).logs,
    ).toBe('three\n');
  });

  it('the first terminal status and message are final (§9)', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 1, 'first\n');
    expect((await (await app.request('/api/v1/chris-jid-42/')).json()) as object).toMatchObject({
      status: 'finishedWithError',
    });
    backend.finish('chris-jid-42', 0, 'first\nsecond\n');
    const job = (await (await app.request('/api/v1/chris-jid-42/')).json()) as Record<
      string,
      string
    >;
    expect(job).toMatchObject({ status: 'finishedWithError', message: 'exited with code 1' });
    // The log is archived when the run ends: a finished run answers it from the store.
    expect(job.logs).toBe('first\n');
  });

  it('answers from the record once the backend object is gone (§16 #13)', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 0, 'done\n');
    await app.request('/api/v1/chris-jid-42/');
    backend.vanish('chris-jid-42');
    const res = await app.request('/api/v1/chris-jid-42/');
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toMatchObject({
      status: 'finishedSuccessfully',
      message: 'exited',
      logs: 'done\n',
    });
  });

  it('finished runs persist in the store under STATE_DIR and answer after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pman-ts-state-'));
    try {
      const ledger = Ledger.open(dir);
      const first = await testApp({ ledger });
      await postJson(first.app, sampleBody());
      first.backend.finish('chris-jid-42', 0, 'done\n');
      await first.app.request('/api/v1/chris-jid-42/');
      ledger.close();
      // A new server, and an engine that no longer has the object: the store answers.
      const second = await testApp({ ledger: Ledger.open(dir) });
      const res = await second.app.request('/api/v1/chris-jid-42/');
      expect(res.status).toBe(200);
      expect((await res.json()) as object).toMatchObject({
        status: 'finishedSuccessfully',
        logs: 'done\n',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unknown jid → 404 with our text', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/chris-jid-404/');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"message": "job \\"chris-jid-404\\" not found"}\n');
  });

  it('a jid no job could have (path tricks) → 404 before any backend call', async () => {
    const backend = new MemoryBackend();
    const calls: string[] = [];
    const refuse = (name: string): Promise<never> => {
      calls.push(name);
      return Promise.reject(new TypeError('must not be called'));
    };
    backend.read = refuse;
    backend.delete = refuse;
    const { app } = await testApp({ backend });
    for (const [method, path, jid] of [
      ['GET', '/api/v1/..%2F..%2Finfo/', '../../info'],
      ['DELETE', '/api/v1/a%2Fb/', 'a/b'],
      ['GET', `/api/v1/${'x'.repeat(64)}/logs/`, 'x'.repeat(64)],
      ['GET', '/api/v1/%2F/', ''],
    ] as const) {
      const res = await app.request(path, { method });
      expect(res.status).toBe(404);
      expect(await res.text()).toBe(`{"message": "job \\"${jid}\\" not found"}\n`);
    }
    expect(calls).toEqual([]);
  });

  it('HEAD answers 200 without a body', async () => {
    const { app } = await testApp();
    await postJson(app, sampleBody());
    const res = await app.request('/api/v1/chris-jid-42/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('DELETE /api/v1/<jid>/ (§11)', () => {
  it('204 with no body; then GET and DELETE are 404', async () => {
    const { app } = await testApp();
    await postJson(app, sampleBody());
    const res = await app.request('/api/v1/chris-jid-42/', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await app.request('/api/v1/chris-jid-42/')).status).toBe(404);
    expect((await app.request('/api/v1/chris-jid-42/', { method: 'DELETE' })).status).toBe(404);
  });

  it('an unknown jid → 404 with our text', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/nope/', { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"message": "job \\"nope\\" not found"}\n');
  });

  it('a job the engine no longer has → 204; history keeps the run, marked removed', async () => {
    const { app, backend, ledger } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 0);
    await app.request('/api/v1/chris-jid-42/');
    backend.vanish('chris-jid-42');
    expect((await app.request('/api/v1/chris-jid-42/', { method: 'DELETE' })).status).toBe(204);
    expect(ledger.current('chris-jid-42')?.removed).not.toBeNull();
    expect((await app.request('/api/v1/chris-jid-42/')).status).toBe(404);
  });

  it('REMOVE_JOBS=no → 204 without looking the job up, and nothing is removed', async () => {
    const { app, backend } = await testApp({ config: { removeJobs: false } });
    await postJson(app, sampleBody());
    expect((await app.request('/api/v1/chris-jid-42/', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/v1/unknown/', { method: 'DELETE' })).status).toBe(204);
    expect((await statusOf(backend, 'chris-jid-42')).name).toBe('chris-jid-42');
  });
});

describe('GET /api/v1/jobs/ (§12.1)', () => {
  it('an empty list', async () => {
    const { app } = await testApp();
    expect(await text(app.request('/api/v1/jobs/'))).toBe('{"jobs": []}\n');
  });

  it('lists jobs sorted by jid, without logs, with record-only jobs', async () => {
    const { app, backend } = await testApp({ backend: clockBackend() });
    for (const jid of ['chris-jid-3', 'chris-jid-1', 'chris-jid-2'])
      await postJson(app, sampleBody({ jid }));
    backend.finish('chris-jid-2', 0, 'x\n');
    await app.request('/api/v1/chris-jid-2/');
    backend.vanish('chris-jid-2');
    backend.start('chris-jid-3');
    const res = await app.request('/api/v1/jobs/');
    await expectDocumented(await fetchDoc(app), 'GET', '/api/v1/jobs/', res);
    const { jobs } = (await res.json()) as { jobs: Record<string, string>[] };
    expect(jobs.map((j) => [j.jid, j.status])).toEqual([
      ['chris-jid-1', 'notstarted'],
      ['chris-jid-2', 'finishedSuccessfully'],
      ['chris-jid-3', 'started'],
    ]);
    expect(Object.keys(jobs[0] ?? {})).toEqual([
      'jid',
      'image',
      'cmd',
      'status',
      'message',
      'timestamp',
    ]);
    const filtered = await app.request('/api/v1/jobs/?status=started');
    expect(((await filtered.json()) as { jobs: { jid: string }[] }).jobs.map((j) => j.jid)).toEqual(
      ['chris-jid-3'],
    );
  });

  it('an unknown status filter → 400 bundle', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/jobs/?status=bogus');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"message": {"status": "bogus is not a valid choice"}}\n');
  });
});

describe('GET /api/v1/<jid>/logs/ (§12.2)', () => {
  it('streams the full logs as text/plain, with ?tail', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.start('chris-jid-42', 'a\nb é\nc\n');
    const res = await app.request('/api/v1/chris-jid-42/logs/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('a\nb é\nc\n');
    expect(await text(app.request('/api/v1/chris-jid-42/logs/?tail=2'))).toBe('b é\nc\n');
  });

  it('an unknown jid → JSON 404; a bad tail → 400', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/nope/logs/');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"message": "job \\"nope\\" not found"}\n');
    await postJson(app, sampleBody());
    expect((await app.request('/api/v1/chris-jid-42/logs/?tail=-1')).status).toBe(400);
  });

  it('a record-only job answers with the captured logs; HEAD has no body', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 0, 'one\ntwo\n');
    await app.request('/api/v1/chris-jid-42/');
    backend.vanish('chris-jid-42');
    expect(await text(app.request('/api/v1/chris-jid-42/logs/?tail=1'))).toBe('two\n');
    const head = await app.request('/api/v1/chris-jid-42/logs/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await app.request('/api/v1/nope/logs/', { method: 'HEAD' })).status).toBe(404);
  });
});

describe('health and backend failures (§2, §13)', () => {
  it('GET /health is 200 whether or not the backend answers', async () => {
    const { app, backend } = await testApp();
    expect(await text(app.request('/health'))).toBe('{"status": "ok", "backend": "ok"}\n');
    backend.setOutage('down');
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    // The reason stays in the log (test/http/error-detail.test.ts): /health is open to anyone.
    expect(await res.text()).toBe('{"status": "ok", "backend": "unavailable"}\n');
  });

  it('GET /health/ready is 503 with Retry-After while the backend is down', async () => {
    const { app, backend } = await testApp();
    expect((await app.request('/health/ready')).status).toBe(200);
    backend.setOutage('down');
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    await expectDocumented(await fetchDoc(app), 'GET', '/health/ready', res);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.text()).toBe('{"message": "unavailable"}\n');
  });

  it('an unreachable backend on a job route → 503 with Retry-After', async () => {
    const { app, backend } = await testApp();
    backend.setOutage('down');
    const res = await app.request('/api/v1/x/');
    expect(res.status).toBe(503);
    await expectDocumented(await fetchDoc(app), 'GET', '/api/v1/x/', res);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('a POST while the backend is down is accepted, waiting for it (ACCEPT_WHILE_UNAVAILABLE)', async () => {
    const { app, backend } = await testApp();
    backend.setOutage('down');
    const res = await postJson(app, sampleBody());
    expect(res.status).toBe(201);
    const job = (await res.json()) as Record<string, string>;
    expect(job.status).toBe('notstarted');
    expect(job.message).toContain('waiting for the engine');
    const read = await app.request('/api/v1/chris-jid-42/');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ status: 'notstarted' });
  });

  it('a POST while the backend is down → 503 with Retry-After when ACCEPT_WHILE_UNAVAILABLE=no', async () => {
    const { app, backend } = await testApp({ config: { acceptWhileUnavailable: false } });
    backend.setOutage('down');
    const res = await postJson(app, sampleBody());
    expect(res.status).toBe(503);
    await expectDocumented(await fetchDoc(app), 'POST', '/api/v1/', res);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('a job already reported finished is answered from its record while the backend is down', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody());
    backend.finish('chris-jid-42', 0, 'done\n');
    expect((await app.request('/api/v1/chris-jid-42/')).status).toBe(200);
    backend.setOutage('down');
    const res = await app.request('/api/v1/chris-jid-42/');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'finishedSuccessfully', logs: 'done\n' });
    expect((await app.request('/api/v1/other-jid/')).status).toBe(503);
  });

  it('our own bug → 500 {"message": "Internal Server Error"}', async () => {
    const backend = new MemoryBackend();
    backend.read = () => Promise.reject(new TypeError('boom at line 3'));
    const { app } = await testApp({ backend });
    const res = await app.request('/api/v1/x/');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"message": "Internal Server Error"}\n');
  });
});

describe('POST /api/v1/ bounds every field before disk or engine (issue 10)', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });

  it.each([
    ['input_dir', 'x'.repeat(10_000), 'must be at most 3800 characters'],
    ['output_dir', `key-x/${'d/'.repeat(2_700)}`, 'must be at most 3800 characters'],
    ['output_dir', 'key-x/out:/host', "must not contain ':' or control characters"],
    ['image', 'x'.repeat(1024 * 1024 - 1024), 'must be at most 512 characters'],
    ['auid', { a: 1 }, 'must be a string'],
    ['auid', 'u'.repeat(100_000), 'must be at most 256 characters'],
    ['entrypoint', ['e'.repeat(200_000)], 'item 0 is longer than 32768 bytes'],
    [
      'args',
      [
        'a'.repeat(30_000),
        'a'.repeat(30_000),
        'a'.repeat(30_000),
        'a'.repeat(30_000),
        'a'.repeat(30_000),
      ],
      'the command (entrypoint and args) must be at most 131072 bytes',
    ],
  ])(
    '%s too big or bad → 400 naming it; nothing on disk, nothing in the backend',
    async (field, value, text) => {
      const root = await mkdtemp(join(tmpdir(), 'pman-ts-bounds-'));
      roots.push(root);
      const { app, backend } = await testApp({ storeBaseCheck: root });
      const res = await postJson(app, sampleBody({ [field]: value }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ message: { [field]: text } });
      expect(await backend.list()).toEqual([]);
      expect(await readdir(root)).toEqual([]);
    },
  );

  it('a megabyte of env → 400 {"env": …}, and nothing created', async () => {
    const { app, backend } = await testApp();
    const res = await postJson(app, sampleBody({ env: [`BIG=${'v'.repeat(900_000)}`] }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: { env: 'item 0: the value is longer than 32768 bytes' },
    });
    expect(await backend.list()).toEqual([]);
  });
});

describe('POST /api/v1/ with IMAGE_ALLOWLIST (issue 10)', () => {
  const allowlist = ['docker.io/fnndsc/*', 'ghcr.io/fnndsc/pl-*:*', 'docker.io/library/busybox:*'];

  it('an image the list does not match → 403 with the pman-style message, nothing created', async () => {
    const { app, backend } = await testApp({ config: { imageAllowlist: allowlist } });
    const res = await postJson(app, sampleBody({ image: 'evil.io/fnndsc/pl-x:1' }));
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(
      '{"message": "image \\"evil.io/fnndsc/pl-x:1\\" is not allowed by IMAGE_ALLOWLIST"}\n',
    );
    expect(await backend.list()).toEqual([]);
  });

  it.each(['ghcr.io/fnndsc/pl-simpledsapp:2.1.0', 'fnndsc/pl-dircopy', 'busybox'])(
    '%s matches (normalized) → 201',
    async (image) => {
      const { app } = await testApp({ config: { imageAllowlist: allowlist } });
      expect((await postJson(app, sampleBody({ image }))).status).toBe(201);
    },
  );

  it('a bad image is a 400 before the allow-list is asked', async () => {
    const { app } = await testApp({ config: { imageAllowlist: allowlist } });
    const res = await postJson(app, sampleBody({ image: 'not/Valid' }));
    expect(res.status).toBe(400);
  });

  it('without a list every valid image is allowed', async () => {
    const { app } = await testApp();
    expect((await postJson(app, sampleBody({ image: 'evil.io/x:1' }))).status).toBe(201);
  });
});
