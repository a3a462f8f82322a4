// The `pman` client commands (src/client) against an in-process server on a real socket over the
// memory backend: what each prints, its exit code, and the server's message on a refusal.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/client/commands.js';
import type { ClientCommand, ClientIo } from '../../src/client/commands.js';
import { PmanClient } from '../../src/client/http.js';
import type { AuthSettings } from '../../src/config/auth.js';
import { loadAuthenticator } from '../../src/http/auth.js';
import { listen } from '../../src/http/server.js';
import type { Listening } from '../../src/http/server.js';
import { sampleBody, testApp, until } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';
import { httpSettings } from './http-settings.js';

interface Captured {
  out: string;
  err: string;
  code: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NOW = new Date('2026-12-05T18:00:00Z');
let dir: string;
let t: TestApp;
let server: Listening;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pman-cli-'));
  t = await testApp();
  server = await listen({
    ip: '127.0.0.1',
    port: 0,
    http: httpSettings(),
    fetch: t.app.fetch,
    log: pino({ level: 'silent' }),
  });
  url = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  server.server.closeAllConnections();
  await new Promise((resolve) => server.server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const aborts: AbortController[] = [];
afterEach(() => {
  for (const a of aborts.splice(0)) a.abort();
});

/** Runs one command; `opts.onOutput` sees stdout as it grows (to act while a command follows). */
async function run(
  cmd: ClientCommand,
  opts: {
    isTTY?: boolean;
    token?: string;
    now?: Date;
    signal?: AbortSignal;
    stdin?: string;
    baseUrl?: string;
  } = {},
  sink: { out: string } = { out: '' },
): Promise<Captured> {
  let err = '';
  const client = new PmanClient({
    url: opts.baseUrl ?? url,
    ...(opts.token !== undefined && { token: opts.token }),
  });
  const io: ClientIo = {
    stdout: (text) => {
      sink.out += typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
    },
    stderr: (text) => {
      err += text;
    },
    isTTY: opts.isTTY ?? false,
    now: () => opts.now ?? NOW,
    readInput: async (file) => {
      if (file === '-') return opts.stdin ?? '';
      const { readFile } = await import('node:fs/promises');
      return readFile(file, 'utf8');
    },
    ...(opts.signal !== undefined && { signal: opts.signal }),
  };
  const code = await runCommand(cmd, client, io);
  return { out: sink.out, err, code };
}

async function bodyFile(jid: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(dir, `${jid}.json`);
  await writeFile(file, JSON.stringify(sampleBody({ jid, ...overrides })));
  return file;
}

async function statusOf(jid: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/${jid}/`);
  return ((await res.json()) as { status: string }).status;
}

describe('pman client commands', () => {
  it('submit <file> prints the job; status shows it; --json gives the server answer', async () => {
    const submitted = await run({ name: 'submit', json: false, file: await bodyFile('cli-1') });
    expect(submitted).toMatchObject({ code: 0, err: '' });
    expect(submitted.out).toMatch(/^jid:\s+cli-1$/m);
    expect(submitted.out).toMatch(/^status:\s+notstarted$/m);
    t.backend.start('cli-1', 'hello from cli-1\n');
    await until(async () => ((await statusOf('cli-1')) === 'started' ? true : undefined));
    const status = await run({ name: 'status', json: false, jid: 'cli-1' });
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^status:\s+started$/m);
    expect(status.out).toContain('\nhello from cli-1\n');
    const json = await run({ name: 'status', json: true, jid: 'cli-1' });
    expect(JSON.parse(json.out)).toMatchObject({ jid: 'cli-1', status: 'started' });
  });

  it('submit - reads stdin; a body that is not JSON is refused before any request', async () => {
    const body = JSON.stringify(sampleBody({ jid: 'cli-stdin' }));
    const ok = await run({ name: 'submit', json: true, file: '-' }, { stdin: body });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ jid: 'cli-stdin', status: 'notstarted' });
    const bad = await run({ name: 'submit', json: false, file: '-' }, { stdin: '{nope' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^pman: stdin is not a JSON job body: /);
  });

  it("prints the server's message and exits 1 on a refusal (404, 409, field validation)", async () => {
    const missing = await run({ name: 'status', json: false, jid: 'cli-none' });
    expect(missing).toEqual({ code: 1, out: '', err: 'pman: job "cli-none" not found\n' });
    const again = await run({ name: 'submit', json: false, file: await bodyFile('cli-1') });
    expect(again.code).toBe(1);
    expect(again.err).toBe('pman: job "cli-1" already exists\n');
    const invalid = await run({
      name: 'submit',
      json: false,
      file: await bodyFile('cli-bad', { cpu_limit: 'lots' }),
    });
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/^pman: cpu_limit: .+\n$/);
  });

  it('cannot reach the server: one line naming PMAN_URL, exit 1', async () => {
    const closed = await run(
      { name: 'jobs', json: false },
      { baseUrl: 'http://127.0.0.1:9/nothing-listens' },
    );
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(
      /^pman: cannot reach pman at http:\/\/127\.0\.0\.1:9\/nothing-listens \(.+\); set PMAN_URL\n$/,
    );
  });

  it('a PMAN_URL that is no URL: one line naming PMAN_URL, exit 1', async () => {
    const bad = await run({ name: 'jobs', json: false }, { baseUrl: '127.0.0.1:5010' });
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(
      'pman: PMAN_URL must be a URL such as http://127.0.0.1:5010, got "127.0.0.1:5010"\n',
    );
  });

  it('jobs: a table with a header and one row per job, --status filters, --json the list', async () => {
    const table = await run({ name: 'jobs', json: false });
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JID\s+STATUS\s+AGE\s+MESSAGE$/);
    expect(lines.find((l) => l.startsWith('cli-1 '))).toMatch(/^cli-1\s+started\s+\S+\s+running/);
    expect(lines.find((l) => l.startsWith('cli-stdin '))).toMatch(/^cli-stdin\s+notstarted/);
    const started = await run({ name: 'jobs', json: true, status: 'started' });
    const jobs = JSON.parse(started.out) as { jid: string; status: string }[];
    expect(jobs.map((j) => j.jid)).toContain('cli-1');
    expect(jobs.every((j) => j.status === 'started')).toBe(true);
    const bad = await run({ name: 'jobs', json: false, status: 'sleeping' });
    expect(bad).toMatchObject({ code: 1, out: '' });
    expect(bad.err).toMatch(/^pman: status: sleeping is not a valid choice\n$/);
  });

  it('logs prints the log; logs -f follows it until the job ends', async () => {
    const logs = await run({ name: 'logs', json: false, jid: 'cli-1', follow: false });
    expect(logs).toEqual({ code: 0, out: 'hello from cli-1\n', err: '' });
    const sink = { out: '' };
    const following = run({ name: 'logs', json: false, jid: 'cli-1', follow: true }, {}, sink);
    await until(() => (sink.out.includes('hello from cli-1') ? true : undefined));
    t.backend.print('cli-1', 'second line\n');
    await until(() => (sink.out.includes('second line') ? true : undefined));
    t.backend.print('cli-1', 'done\n');
    await until(() => (sink.out.includes('done') ? true : undefined));
    t.backend.finish('cli-1', 0);
    const done = await following;
    expect(done.code).toBe(0);
    expect(done.out).toBe('hello from cli-1\nsecond line\ndone\n');
  });

  it('wait exits 0 for finishedSuccessfully, 1 for finishedWithError, with the final line', async () => {
    const ok = await run({ name: 'wait', json: false, jid: 'cli-1' });
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^cli-1 {2}finishedSuccessfully \(exited\) {2}\S+\n$/);
    await run({ name: 'submit', json: false, file: await bodyFile('cli-2') });
    const waiting = run({ name: 'wait', json: false, jid: 'cli-2' }, { isTTY: true });
    t.backend.start('cli-2');
    t.backend.finish('cli-2', 3);
    const failed = await waiting;
    expect(failed.code).toBe(1);
    // On a terminal the line is redrawn in place (\r, erase line) and ends with a newline.
    const erase = `\r${String.fromCharCode(27)}[K`;
    expect(failed.out.startsWith(erase)).toBe(true);
    const final = failed.out.slice(failed.out.lastIndexOf(erase) + erase.length);
    expect(final).toMatch(/^cli-2 {2}finishedWithError \(exited with code 3\) {2}\S+\n$/);
    const json = await run({ name: 'wait', json: true, jid: 'cli-2' });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ jid: 'cli-2', status: 'finishedWithError' });
    const none = await run({ name: 'wait', json: false, jid: 'cli-none' });
    expect(none).toMatchObject({ code: 1, err: 'pman: job "cli-none" not found\n' });
  });

  it('wait on a run that ended long ago shows how long it took, not its age', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000);
    const ended = await run({ name: 'wait', json: false, jid: 'cli-1' }, { now: inAnHour });
    expect(ended.code).toBe(0);
    expect(ended.out).toMatch(/^cli-1 {2}finishedSuccessfully \(exited\) {2}\d+s\n$/);
  });

  it('cancel stops a running job; a second cancel prints the 409 message', async () => {
    await run({ name: 'submit', json: false, file: await bodyFile('cli-3') });
    t.backend.start('cli-3');
    await until(async () => ((await statusOf('cli-3')) === 'started' ? true : undefined));
    const cancelled = await run({ name: 'cancel', json: true, jid: 'cli-3' });
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({ jid: 'cli-3' });
    await until(async () => ((await statusOf('cli-3')) === 'finishedWithError' ? true : undefined));
    const again = await run({ name: 'cancel', json: false, jid: 'cli-3' });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^pman: .+\n$/);
  });

  it('delete removes the job; a second delete prints the 404 message', async () => {
    const deleted = await run({ name: 'delete', json: false, jid: 'cli-3' });
    expect(deleted).toEqual({ code: 0, out: 'deleted cli-3\n', err: '' });
    const again = await run({ name: 'delete', json: true, jid: 'cli-3' });
    expect(again).toEqual({ code: 1, out: '', err: 'pman: job "cli-3" not found\n' });
  });

  it('events prints each status change as it happens, --json as one object per line', async () => {
    const abort = new AbortController();
    aborts.push(abort);
    const sink = { out: '' };
    const following = run(
      { name: 'events', json: false, jid: ['cli-4'] },
      { signal: abort.signal },
      sink,
    );
    const jsonAbort = new AbortController();
    aborts.push(jsonAbort);
    const jsonSink = { out: '' };
    const followingJson = run(
      { name: 'events', json: true, jid: ['cli-4'] },
      { signal: jsonAbort.signal },
      jsonSink,
    );
    await until(() => (t.ledger.hub.subscribers >= 2 ? true : undefined));
    await run({ name: 'submit', json: false, file: await bodyFile('cli-4') });
    t.backend.start('cli-4');
    t.backend.finish('cli-4', 0);
    await until(() => (sink.out.includes('finishedSuccessfully') ? true : undefined));
    await until(() => (jsonSink.out.includes('finishedSuccessfully') ? true : undefined));
    abort.abort();
    jsonAbort.abort();
    const [human, json] = await Promise.all([following, followingJson]);
    expect(human.err).toBe('');
    const lines = human.out.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[4])).toEqual([
      'notstarted',
      'started',
      'finishedSuccessfully',
    ]);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}cli-4 run 1 {2}notstarted/);
    const objects = json.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { jid: string; status: string });
    expect(objects.map((o) => o.status)).toEqual(['notstarted', 'started', 'finishedSuccessfully']);
    expect(objects.every((o) => o.jid === 'cli-4')).toBe(true);
  });
});

describe('pman events in its own process', () => {
  // 60 s: a bound for a loaded machine (a fresh node with tsx starts in seconds), no timing check.
  it('a reader that closes the pipe (pman events | head) ends it with 0, no EPIPE crash', async () => {
    await run({ name: 'submit', json: false, file: await bodyFile('cli-pipe-1') });
    const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const child = spawn(
      process.execPath,
      ['--import', tsx, path.join(ROOT, 'src/main.ts'), 'events', '--since', '0'],
      {
        cwd: dir,
        env: { ...process.env, PMAN_URL: url, PMAN_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Like `head -1`: read the first line, then close our end of the pipe.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      // The next event is written to the closed pipe.
      await run({ name: 'submit', json: false, file: await bodyFile('cli-pipe-2') });
      expect(await exited).toBe(0);
      expect(err).not.toMatch(/EPIPE/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('pman client commands with token auth', () => {
  let authed: Listening;
  let authedUrl: string;

  beforeAll(async () => {
    const tokens = path.join(dir, 'tokens.ini');
    await writeFile(tokens, '[AUTH TOKENS]\ncli = cli-token-0123456789abcdef\n', { mode: 0o600 });
    const auth: AuthSettings = { enabled: true, tokenPath: tokens };
    const a = await testApp({ config: { auth }, authenticator: await loadAuthenticator(auth) });
    authed = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: httpSettings(),
      fetch: a.app.fetch,
      log: pino({ level: 'silent' }),
    });
    authedUrl = `http://127.0.0.1:${authed.port}`;
  });

  afterAll(async () => {
    authed.server.closeAllConnections();
    await new Promise((resolve) => authed.server.close(resolve));
  });

  it('PMAN_TOKEN goes as a bearer token; without it the 401 message is printed', async () => {
    const ok = await run(
      { name: 'jobs', json: true },
      { baseUrl: authedUrl, token: 'cli-token-0123456789abcdef' },
    );
    expect(ok).toMatchObject({ code: 0, out: '[]\n' });
    const denied = await run({ name: 'jobs', json: false }, { baseUrl: authedUrl });
    expect(denied).toEqual({ code: 1, out: '', err: 'pman: Missing authorization header.\n' });
  });
});
