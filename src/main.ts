#!/usr/bin/env node
// The `pman` bin and the only composition root: parseCli → read .env → loadConfig → logger →
// createBackend (retried while unreachable) → records → authenticator → createApp → serve;
// SIGTERM/SIGINT drain in-flight requests, close the backend and exit 0 (architecture.md §3, §8).
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { createApp } from './http/app.js';
import type { Backend } from './backends/backend.js';
import { createBackend } from './backends/registry.js';
import type { CreatedBackend } from './backends/registry.js';
import { parseCli, signToken } from './cli.js';
import { runClientCommand } from './client/run.js';
import type { Config } from './config/config.js';
import { readTokenSigning } from './config/auth.js';
import { loadConfig, parseDotEnv } from './config/config.js';
import { createEnvReader } from './config/env-reader.js';
import { readHttpServer } from './config/listen.js';
import { ConfigError } from './config/errors.js';
import { BackendUnavailableError } from './domain/errors.js';
import { loadAuthenticator } from './http/auth.js';
import { listen, readTls } from './http/server.js';
import { createLogger } from './log.js';
import { readySummary, startingSummary } from './banner.js';
import { meteredBackend } from './service/metered-backend.js';
import { Metrics } from './service/metrics.js';
import { JobService } from './service/jobs.js';
import { importLegacyRecords } from './service/legacy-records.js';
import { Ledger } from './store/ledger.js';
import { WebhookWorker } from './service/webhooks/worker.js';
import { StoreError } from './store/errors.js';
import { packageVersion } from './version.js';

/** How long start-up keeps retrying an unreachable backend before giving up. */
const STARTUP_RETRY_MS = 60_000;
const MAX_RETRY_DELAY_MS = 10_000;
/** How long a SIGTERM waits for in-flight requests before cutting the remaining connections. */
const DRAIN_MS = 10_000;

type Env = Record<string, string | undefined>;

/** A start-up failure whose lines go to stderr as they are, without a stack. */
class StartupError extends Error {
  readonly lines: readonly string[];
  constructor(lines: readonly string[]) {
    super(lines.join('\n'));
    this.lines = lines;
  }
}

/** The process environment over a .env file in the working directory (the real env wins). */
async function readEnvironment(): Promise<Env> {
  let text: string;
  try {
    text = await readFile(join(process.cwd(), '.env'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...process.env };
    throw new StartupError([`.env: cannot be read (${(err as Error).message})`]);
  }
  return { ...parseDotEnv(text), ...process.env };
}

function isLoopback(ip: string): boolean {
  if (ip === 'localhost' || ip === '::1') return true;
  return isIP(ip) === 4 && ip.startsWith('127.');
}

/** Retries while the backend is unreachable (an engine or API server still starting). */
async function createBackendPatiently(config: Config, log: Logger): Promise<CreatedBackend> {
  const deps = {
    log: log.child({ backend: config.containerEnv }),
    timeoutMs: config.backendTimeoutSeconds * 1000,
  };
  const deadline = Date.now() + STARTUP_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await createBackend(config, deps);
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      const wait = Math.min(1000 * 2 ** attempt, MAX_RETRY_DELAY_MS);
      if (Date.now() + wait > deadline) {
        throw new StartupError([`${config.containerEnv} backend unavailable: ${err.message}`]);
      }
      log.warn({ err: err.message, retryInMs: wait }, 'backend unavailable, retrying');
      await delay(wait);
    }
  }
}

/** Configuration notes, logged before any backend call so they show even if start-up fails. */
function logConfig(config: Config, log: Logger): void {
  for (const warning of config.warnings) log.warn(warning);
  if (!config.auth.enabled && !isLoopback(config.listen.ip)) {
    log.warn(
      { ip: config.listen.ip },
      'LISTENING ON A NON-LOOPBACK ADDRESS WITHOUT AUTHENTICATION: anyone who can reach this port can run any image (enable --enableTokenAuth or put pman behind a trusted network)',
    );
    // The Host check (DNS rebinding) answers 400 to every name but loopback and ALLOWED_HOSTS.
    if (config.http?.allowedHostsSet !== true) {
      log.warn(
        'ALLOWED_HOSTS is not set: with authentication off only requests addressed to a loopback name (127.0.0.1, localhost, ::1) are served; set ALLOWED_HOSTS to the names clients use (e.g. pman)',
      );
    }
  }
}

function logBackend(config: Config, log: Logger, created: CreatedBackend): void {
  const { jobName, ...caps } = created.backend.capabilities;
  log.info(
    {
      version: config.serverVersion,
      containerEnv: config.containerEnv,
      storageType: config.storageType,
      storage: created.storage,
      capabilities: { ...caps, jobName: { ...jobName, pattern: jobName.pattern.source } },
      auth: config.auth.enabled,
    },
    'backend ready',
  );
}

/** The HTTP server settings of an empty environment (a Config built without them). */
function defaultHttpServer() {
  return readHttpServer(createEnvReader({}));
}

/** Resolves on the first SIGTERM or SIGINT. */
function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      // Later signals are ignored, not fatal: Ctrl-C under `npm start` arrives twice (from the
      // terminal and forwarded), and the drain is bounded anyway.
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.on('SIGTERM', () => undefined);
      process.on('SIGINT', () => undefined);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** How often retention runs (HISTORY_RETENTION_DAYS, HISTORY_MAX_BYTES). */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The job store in STATE_DIR, with the records of an older pman-ts imported once. A damaged,
 * foreign or newer file stops start-up with what to do — never a silent reset.
 */
async function openLedger(config: Config, log: Logger): Promise<Ledger> {
  let ledger: Ledger;
  try {
    ledger = Ledger.open(config.stateDir, {
      logArchiveMaxBytes: config.logArchiveMaxBytes,
      retentionDays: config.historyRetentionDays,
      ...(config.historyMaxBytes !== undefined && { historyMaxBytes: config.historyMaxBytes }),
    });
  } catch (err) {
    if (err instanceof StoreError) throw new StartupError([err.message]);
    throw err;
  }
  const imported = await importLegacyRecords(config.stateDir, ledger, (text) => log.warn(text));
  if (imported > 0)
    log.info({ imported }, 'job records of an older pman-ts imported into the store');
  log.info({ file: ledger.file }, 'job store open');
  return ledger;
}

/** Retention, hourly and once at start-up; a failure is logged, never fatal. */
function startRetention(ledger: Ledger, log: Logger): NodeJS.Timeout {
  const prune = (): void => {
    try {
      const pruned = ledger.prune();
      if (pruned > 0) log.info({ pruned }, 'history retention removed old runs');
    } catch (err) {
      log.warn({ err }, 'history retention failed');
    }
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return timer;
}

/** WEBHOOK_URL becomes the store's target; with a secret, the worker sends the outbox (issue 12). */
function startWebhooks(config: Config, ledger: Ledger, log: Logger): WebhookWorker | undefined {
  const settings = config.webhooks;
  ledger.setWebhookTargets(settings?.url === undefined ? [] : [settings.url]);
  if (settings?.secret === undefined) return undefined;
  const worker = new WebhookWorker(ledger, {
    secret: settings.secret,
    timeoutMs: settings.timeoutSeconds * 1000,
    maxAgeMs: settings.maxAgeSeconds * 1000,
    log,
  });
  worker.start();
  return worker;
}

/** Stops accepting, lets in-flight requests finish (bounded), then closes the backend. */
async function drain(server: Server, backend: Backend, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cut = setTimeout(() => {
    log.warn({ afterMs: DRAIN_MS }, 'closing connections still open after the drain period');
    server.closeAllConnections();
  }, DRAIN_MS);
  await closed;
  clearTimeout(cut);
  await backend.close();
}

async function serveUntilSignal(config: Config): Promise<number> {
  // A person at a terminal reads pino-pretty's lines; a pipe or a log collector gets JSON.
  const log = createLogger(config.logLevel, { pretty: process.stdout.isTTY });
  const starting = startingSummary(config);
  log.info({ banner: starting.fields }, starting.msg);
  logConfig(config, log);
  try {
    // Local start-up steps first: a bad token file should fail before the backend is dialled.
    const authenticator = config.auth.enabled
      ? await loadAuthenticator(config.auth, { warn: (text) => log.warn(text) })
      : undefined;
    if (config.http?.tls !== undefined) await readTls(config.http.tls);
    const ledger = await openLedger(config, log);
    const webhooks = startWebhooks(config, ledger, log);
    const created = await createBackendPatiently(config, log);
    logBackend(config, log, created);
    // One registry for this server; every engine call goes through the metered Port (GET /metrics).
    const metrics = new Metrics({ backend: config.containerEnv, ledger, processDefaults: true });
    const backend = meteredBackend(created.backend, metrics);
    const jobs = new JobService({
      backend,
      ledger,
      config,
      storage: created.storage,
      ...(created.storeBaseCheck !== undefined && { storeBaseCheck: created.storeBaseCheck }),
      warn: (message, err) => log.warn({ err }, message),
    });
    // The store and the engine agree before the first request: accepted runs are created, objects
    // of ours adopted, vanished ones ended. An engine gone again meanwhile is retried later.
    await jobs.reconciler.pass().then(
      (report) => log.info(report, 'store and engine reconciled'),
      (err: unknown) => log.warn({ err }, 'first reconcile failed; retrying in the background'),
    );
    jobs.reconciler.start();
    // The fair queue resumes (issue 13): queued runs and retries due are admitted from here on.
    jobs.queue.start();
    const retention = startRetention(ledger, log);
    const app = createApp({
      backend,
      metrics,
      ledger,
      jobs,
      config,
      storage: created.storage,
      ...(created.storeBaseCheck !== undefined && { storeBaseCheck: created.storeBaseCheck }),
      log,
      ...(authenticator !== undefined && { authenticator }),
    });
    const { server, reloadTls } = await listen({
      ip: config.listen.ip,
      port: config.listen.port,
      http: config.http ?? defaultHttpServer(),
      fetch: app.fetch,
      log,
    }).catch((err: unknown) => {
      if (err instanceof ConfigError) throw err;
      throw new StartupError([(err as Error).message]);
    });
    // SIGHUP re-reads the certificate (rotated by cert-manager, certbot…) without dropping a job.
    if (config.http?.tls !== undefined) process.on('SIGHUP', () => void reloadTls());
    const ready = readySummary(config);
    log.info({ banner: ready.fields }, ready.msg);
    // Registered only now: before this point the default (immediate exit) is the right reaction.
    log.info({ signal: await shutdownSignal() }, 'shutting down');
    jobs.reconciler.stop();
    jobs.queue.stop();
    // No deadline fires into a closing store; the next start re-arms them from the store.
    jobs.close();
    clearInterval(retention);
    await drain(server, created.backend, log);
    metrics.close();
    await webhooks?.stop();
    ledger.close();
    log.info('stopped');
    return 0;
  } catch (err) {
    const lines = startupLines(err);
    // Expected start-up failures are stated, not traced; anything else is our bug: keep the stack.
    const expected = err instanceof StartupError || err instanceof ConfigError;
    if (expected) log.fatal(lines.join('; '));
    else log.fatal({ err }, lines.join('; '));
    for (const line of lines) process.stderr.write(`${line}\n`);
    return 1;
  }
}

function startupLines(err: unknown): readonly string[] {
  if (err instanceof StartupError) return err.lines;
  if (err instanceof ConfigError) return err.problems;
  return [err instanceof Error ? err.message : String(err)];
}

async function main(argv: readonly string[]): Promise<number> {
  let env: Env;
  try {
    env = await readEnvironment();
  } catch (err) {
    for (const line of startupLines(err)) process.stderr.write(`${line}\n`);
    return 1;
  }
  const version = env.BUILD_VERSION?.trim() || packageVersion();
  const action = await parseCli(argv, version);
  switch (action.kind) {
    case 'print':
      process.stdout.write(`${action.text.trimEnd()}\n`);
      return 0;
    case 'fail':
      process.stderr.write(`pman: ${action.message}\nRun "pman --help" for the usage.\n`);
      return 1;
    case 'token': {
      const signing = readTokenSigning(createEnvReader(env));
      if ('problems' in signing) {
        for (const line of signing.problems) process.stderr.write(`${line}\n`);
        return 1;
      }
      try {
        process.stdout.write(`${signToken(signing.secretKey, action, signing.rules)}\n`);
        return 0;
      } catch (err) {
        process.stderr.write(`--expiresIn: ${(err as Error).message}\n`);
        return 1;
      }
    }
    case 'client':
      return runClientCommand(action.command, env);
    case 'serve':
      break;
  }
  let config: Config;
  try {
    config = loadConfig(env, action.overrides);
  } catch (err) {
    // One line per problem, no stack: the operator fixes the environment, not the code.
    for (const line of startupLines(err)) process.stderr.write(`${line}\n`);
    return 1;
  }
  return serveUntilSignal(config);
}

process.exit(await main(process.argv.slice(2)));
