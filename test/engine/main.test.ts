// The real `pman` process: --version and the other printing flags, bad configuration as one line
// per problem with exit 1, .env handling, the token subcommand, GET /health, and a SIGTERM that
// lets an in-flight request finish. CONTAINER_ENV=memory: no engine is needed.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../fixtures.js';
import { freePort, startServer } from './server-process.js';
import type { ServerProcess } from './server-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainTs = path.join(root, 'src/main.ts');
const tsxLoader = path.join(root, 'node_modules/tsx/dist/loader.mjs');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

const LONG_SECRET = 'a-secret-key-of-at-least-32-bytes!';

let workDir: string;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  // A working directory of our own, so a developer's .env in the checkout cannot leak in.
  workDir = await mkdtemp(path.join(tmpdir(), 'pman-main-test-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  await rm(path.join(workDir, '.env'), { force: true });
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Runs `pman <args>` to completion in workDir with only `env` (plus PATH/HOME) set. */
function run(args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', tsxLoader, mainTs, ...args], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('flags that print and exit', () => {
  it('--version prints "Version: <package version>" and exits 0', async () => {
    const out = await run(['--version']);
    expect(out).toMatchObject({ code: 0, stdout: 'Version: 0.1.0\n', stderr: '' });
  });

  it('BUILD_VERSION overrides the version', async () => {
    expect((await run(['--version'], { BUILD_VERSION: '7.7.7' })).stdout).toBe('Version: 7.7.7\n');
  });

  it('-x and -y print the description and the synopsis and exit 0', async () => {
    const desc = await run(['-x']);
    expect(desc.code).toBe(0);
    expect(desc.stdout).toContain('DESCRIPTION');
    const synopsis = await run(['--synopsis']);
    expect(synopsis.code).toBe(0);
    expect(synopsis.stdout).toContain('SYNOPSIS');
  });

  it('an unknown flag is an error with a non-zero exit', async () => {
    const out = await run(['--containerEnv', 'swarm']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('Unknown argument');
    expect(out.stdout).toBe('');
  });
});

describe('configuration errors', () => {
  it('bad variables: exit 1 and one line per problem on stderr, no stack', async () => {
    const out = await run([], { CONTAINER_ENV: 'dockr', PORT: 'abc', REMOVE_JOBS: 'maybe' });
    expect(out.code).toBe(1);
    expect(out.stderr.trimEnd().split('\n')).toEqual([
      'CONTAINER_ENV: "dockr" is not one of docker, podman, swarm, kubernetes, openshift, slurm, memory',
      'PORT: "abc" is not a whole number from 0 to 65535',
      'REMOVE_JOBS: "maybe" is not one of yes, no, true, false, 1, 0, on, off',
    ]);
    expect(out.stdout).toBe('');
  });

  it('reads .env from the working directory, and the real environment wins over it', async () => {
    await writeFile(path.join(workDir, '.env'), 'CONTAINER_ENV=dockr\nPORT=abc\n');
    const fromFile = await run([]);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr.trimEnd().split('\n')).toEqual([
      'CONTAINER_ENV: "dockr" is not one of docker, podman, swarm, kubernetes, openshift, slurm, memory',
      'PORT: "abc" is not a whole number from 0 to 65535',
    ]);
    // CONTAINER_ENV from the real environment wins; PORT still comes from the file.
    const overridden = await run([], { CONTAINER_ENV: 'memory' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr.trimEnd().split('\n')).toEqual([
      'PORT: "abc" is not a whole number from 0 to 65535',
    ]);
  });
});

describe('token subcommand', () => {
  it('prints an HS256 JWT signed with SECRET_KEY, with aud and (when set) iss', async () => {
    const out = await run(['token', '--subject', 'pfcon', '--expiresIn', '1h'], {
      SECRET_KEY: LONG_SECRET,
      JWT_ISSUER: 'https://cube.example',
    });
    expect(out.code).toBe(0);
    const payload = jwt.verify(out.stdout.trim(), LONG_SECRET, { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'pfcon', aud: 'pman', iss: 'https://cube.example' });
  });

  it("refuses a SECRET_KEY shorter than 32 bytes and an expiry beyond the server's cap", async () => {
    const short = await run(['token'], { SECRET_KEY: 'test-secret' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^SECRET_KEY: must be at least 32 bytes/);
    const long = await run(['token', '--expiresIn', '31d'], { SECRET_KEY: LONG_SECRET });
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/^--expiresIn: "31d" is longer than JWT_MAX_LIFETIME_SECONDS/);
  });

  it('without SECRET_KEY it fails', async () => {
    const out = await run(['token']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('SECRET_KEY');
  });
});

describe('an unreachable backend', () => {
  it('is retried with backoff instead of failing start-up at once', async () => {
    const proc = spawn(process.execPath, ['--import', tsxLoader, mainTs, '--port', '0'], {
      cwd: workDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        CONTAINER_ENV: 'docker',
        STORAGE_TYPE: 'host',
        STOREBASE: workDir,
        // Port 1 on loopback: refused at once, like an engine that is still starting.
        DOCKER_HOST: 'tcp://127.0.0.1:1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
    try {
      await until(() => (out.includes('backend unavailable, retrying') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'a retry log line',
      });
      expect(proc.exitCode).toBeNull();
    } finally {
      proc.kill('SIGKILL');
      await exited;
    }
  });
});

/** Opens a raw connection so the test controls exactly when each byte of a request arrives. */
function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('serving', () => {
  it('answers GET /health and the server info', async () => {
    const server = await startServer({ CONTAINER_ENV: 'memory' });
    servers.push(server);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const info = await fetch(`${server.url}/api/v1/`);
    expect(info.status).toBe(200);
    expect(await info.text()).toBe(
      '{"server_version": "0.1.0", "container_env": "memory", "storage_type": "host"}\n',
    );
    expect(server.output()).toMatch(/"msg":"listening"/);
  });

  it('SIGTERM lets an in-flight request finish, refuses new connections, and exits 0', async () => {
    const server = await startServer({ CONTAINER_ENV: 'memory' });
    servers.push(server);
    const body = JSON.stringify({ jid: 'drain-test' });
    const socket = await openSocket(server.port);
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Headers and half the body: the request is now in flight, waiting for the rest.
    socket.write(
      `POST /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`,
    );
    const exitCode = server.stop('SIGTERM');
    await until(() => (server.output().includes('shutting down') ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the shutdown log line',
    });
    await expect(openSocket(server.port)).rejects.toThrow(/ECONNREFUSED/);
    socket.end(body.slice(5));
    await socketClosed;
    // The request completed with a real answer (the body is incomplete as a job, hence 400).
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('Missing required parameter');
    expect(await exitCode).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});

/** A self-signed certificate for 127.0.0.1 with the given common name, written over cert/key. */
function writeCertificate(cn: string, certFile: string, keyFile: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
}

/** The common name of the certificate a new TLS connection to the port is offered. */
function servedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
    });
    socket.once('error', reject);
  });
}

function httpsGet(
  port: number,
  path: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

// Issue 10, item 12: native TLS, and SIGHUP re-reads the certificate without a restart.
describe('TLS_CERT_FILE and TLS_KEY_FILE', () => {
  let proc: ChildProcess | undefined;
  afterEach(() => {
    proc?.kill('SIGKILL');
    proc = undefined;
  });

  it('serves HTTPS, reloads the pair on SIGHUP, keeps the old one when the new is bad', async () => {
    const certFile = path.join(workDir, 'cert.pem');
    const keyFile = path.join(workDir, 'key.pem');
    writeCertificate('first', certFile, keyFile);
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', tsxLoader, mainTs, '--port', String(port)], {
      cwd: workDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        CONTAINER_ENV: 'memory',
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = child;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => (out.includes('"msg":"listening"') ? true : undefined), {
      timeoutMs: 30_000,
      what: `the listening line in:\n${out}`,
    });
    expect(out).toMatch(/"tls":true/);
    const ca = await readFile(certFile, 'utf8');
    expect(await httpsGet(port, '/health', ca)).toEqual({
      status: 200,
      body: '{"status": "ok", "backend": "ok"}\n',
    });
    expect(await servedName(port)).toBe('first');

    writeCertificate('second', certFile, keyFile);
    child.kill('SIGHUP');
    await until(async () => ((await servedName(port)) === 'second' ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the reloaded certificate',
    });
    expect(out).toContain('TLS certificate reloaded');

    await writeFile(certFile, 'not a certificate');
    child.kill('SIGHUP');
    await until(() => (out.includes('TLS reload failed') ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the failed reload line',
    });
    expect(await servedName(port)).toBe('second');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a pair that is not a certificate and its key stops start-up', async () => {
    const certFile = path.join(workDir, 'bad-cert.pem');
    await writeFile(certFile, 'not a certificate');
    const out = await run([], {
      CONTAINER_ENV: 'memory',
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: certFile,
    });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^TLS_CERT_FILE\/TLS_KEY_FILE: .* are not a PEM certificate/);
  });
});
