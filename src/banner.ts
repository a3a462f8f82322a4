// What the server says about itself to the person who started it (issue 14): the first log line
// names where it will listen, the backend, the storage and the job store; once it listens, one
// more says so with the command to try next. Pure: main.ts logs them.
import { join } from 'node:path';
import type { Config, StorageConfig } from './config/config.js';

export interface Summary {
  msg: string;
  /** The same facts as fields, logged under `banner` (for machines: the pretty output hides them). */
  fields: Record<string, string>;
}

/** The store file in STATE_DIR (src/store/open.ts names it). */
export function jobStoreFile(stateDir: string): string {
  return join(stateDir, 'pman.db');
}

/** STORAGE_TYPE and where the jobs' data lives. */
export function describeStorage(storage: StorageConfig): string {
  switch (storage.type) {
    case 'host':
      return `host (STOREBASE ${storage.storeBase})`;
    case 'docker_local_volume':
      return storage.volumeName === undefined
        ? `docker_local_volume (the volume of the pfcon container ${storage.pfconSelector})`
        : `docker_local_volume (volume ${storage.volumeName})`;
    case 'kubernetes_pvc':
      return `kubernetes_pvc (claim ${storage.claimName})`;
  }
}

/** The URL a client on this machine uses: a wildcard address is reached through loopback. */
export function localUrl(listen: Config['listen'], tls: boolean): string {
  const wildcard = listen.ip === '0.0.0.0' || listen.ip === '::' || listen.ip === '';
  const host = wildcard ? '127.0.0.1' : listen.ip.includes(':') ? `[${listen.ip}]` : listen.ip;
  return `${tls ? 'https' : 'http'}://${host}:${listen.port}`;
}

/** The first line: what this start will use (logged before anything can fail). */
export function startingSummary(config: Config): Summary {
  const listen = `${config.listen.ip.includes(':') ? `[${config.listen.ip}]` : config.listen.ip}:${config.listen.port}`;
  return {
    msg:
      `pman-ts ${config.serverVersion} starting: ${config.containerEnv} backend, storage ` +
      `${describeStorage(config.storage)}, job store ${jobStoreFile(config.stateDir)}; ` +
      `listening on ${listen} once ready`,
    fields: {
      backend: config.containerEnv,
      storage: describeStorage(config.storage),
      jobStore: jobStoreFile(config.stateDir),
      listen,
    },
  };
}

/** The line once it listens: where, and the command to try. */
export function readySummary(config: Config): Summary {
  const url = localUrl(config.listen, config.http?.tls !== undefined);
  return {
    msg: `ready on ${url}/api/v1/ (${config.containerEnv} backend) — try: ${nextCommand(config, url)}`,
    fields: { url: `${url}/api/v1/`, next: nextCommand(config, url) },
  };
}

/** A first request that works as configured: with auth on, it carries a token. */
function nextCommand(config: Config, url: string): string {
  const { auth } = config;
  if (!auth.enabled) return `curl -s ${url}/api/v1/`;
  // `pman token` signs with SECRET_KEY; otherwise a token comes from TOKEN_PATH or the issuer.
  const token = auth.secretKey !== undefined ? '$(pman token)' : '<token>';
  return `curl -s -H "Authorization: Bearer ${token}" ${url}/api/v1/`;
}
