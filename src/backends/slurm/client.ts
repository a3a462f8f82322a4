// A thin slurmrestd client over node:http (TCP or a unix socket, which fetch cannot reach without
// an extra dependency): JSON in and out, the token headers, a timeout, and errors made domain errors.
import { request as httpRequest } from 'node:http';
import type { RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { BackendRefusedError, BackendUnavailableError } from '../../domain/errors.js';
import { unreachableCodes } from '../shared/net-errors.js';
import { TOKEN, withoutTrailingSlashes } from './settings.js';
import type { SlurmBackendConfig } from './settings.js';

const UNREACHABLE = unreachableCodes('ENOENT', 'EACCES');
/** Slurm's "Invalid job id specified": the job is not (or no longer) in the controller. */
export const ESLURM_INVALID_JOB_ID = 2017;
/** A token file is re-read at most this often, so a rotated token is picked up. */
const TOKEN_TTL_MS = 10_000;

export interface SlurmErrorEntry {
  error: string;
  code: number | undefined;
  description: string;
}

/** slurmrestd answered with a non-empty `errors` list (with any HTTP status). */
export class SlurmApiError extends Error {
  readonly status: number;
  readonly errors: readonly SlurmErrorEntry[];
  readonly body: unknown;
  constructor(status: number, errors: readonly SlurmErrorEntry[], body: unknown) {
    super(
      errors.map((e) => [e.error, e.description].filter((t) => t !== '').join(': ')).join('; '),
    );
    this.status = status;
    this.errors = errors;
    this.body = body;
  }

  has(code: number): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The `errors` list of an answer (0.0.38 spells the code error_number or error_code). */
export function errorsOf(body: unknown): SlurmErrorEntry[] {
  const list = asRecord(body)?.errors;
  if (!Array.isArray(list)) return [];
  return list.map((raw) => {
    const e = asRecord(raw) ?? {};
    const code = e.error_number ?? e.error_code;
    return {
      error: typeof e.error === 'string' ? e.error : '',
      code: typeof code === 'number' ? code : undefined,
      description: typeof e.description === 'string' ? e.description : '',
    };
  });
}

type ClientSettings = Pick<SlurmBackendConfig, 'endpoint' | 'token' | 'user' | 'apiVersion'>;

export class SlurmClient {
  readonly #cfg: ClientSettings;
  readonly #timeoutMs: number;
  #token: { value: string; at: number } | undefined;

  constructor(cfg: ClientSettings, timeoutMs: number) {
    this.#cfg = cfg;
    this.#timeoutMs = timeoutMs;
  }

  /** `/slurm/<version>/<rest>`. */
  path(rest: string): string {
    return `/slurm/${this.#cfg.apiVersion}/${rest}`;
  }

  async #tokenValue(): Promise<string> {
    const t = this.#cfg.token;
    if (t.kind === 'value') return t.token;
    if (this.#token !== undefined && performance.now() - this.#token.at < TOKEN_TTL_MS)
      return this.#token.value;
    let text: string;
    try {
      text = await readFile(t.path, 'utf8');
    } catch (err) {
      throw new BackendRefusedError(`SLURM_JWT_FILE ${t.path} cannot be read`, { cause: err });
    }
    const value = text.trim().replace(/^SLURM_JWT=/, '');
    if (!TOKEN.test(value)) {
      throw new BackendRefusedError(
        `SLURM_JWT_FILE ${t.path} holds no token (printable ASCII without spaces)`,
      );
    }
    this.#token = { value, at: performance.now() };
    return value;
  }

  /** One call; resolves with the parsed body, rejects with SlurmApiError or a domain error. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const token = await this.#tokenValue();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = {
      'X-SLURM-USER-NAME': this.#cfg.user,
      'X-SLURM-USER-TOKEN': token,
      Accept: 'application/json',
      ...(payload !== undefined && {
        'Content-Type': 'application/json',
        'Content-Length': payload.length,
      }),
    };
    const ep = this.#cfg.endpoint;
    const base: RequestOptions =
      ep.kind === 'unix'
        ? { socketPath: ep.socketPath, path }
        : {
            hostname: ep.base.hostname,
            port: ep.base.port,
            path: `${ep.base.pathname === '/' ? '' : withoutTrailingSlashes(ep.base.pathname)}${path}`,
          };
    const send = ep.kind === 'tcp' && ep.base.protocol === 'https:' ? httpsRequest : httpRequest;
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const req = send({ ...base, method, headers, timeout: this.#timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        });
        req.on('timeout', () =>
          req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
        );
        req.on('error', reject);
        req.end(payload);
      },
    ).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && UNREACHABLE.has(code)) {
        throw new BackendUnavailableError(`slurmrestd unreachable at SLURM_URL (${code})`, {
          cause: err,
        });
      }
      throw new BackendUnavailableError(`slurmrestd request failed (SLURM_URL): ${String(err)}`, {
        cause: err,
      });
    });
    if (status === 401 || status === 403) {
      throw new BackendRefusedError(
        `slurmrestd refused the token for SLURM_USER=${this.#cfg.user} (HTTP ${status}); renew SLURM_JWT`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (status >= 500 || status === 429) {
        throw new BackendUnavailableError(`slurmrestd answered HTTP ${status}`);
      }
      throw new BackendRefusedError(
        `slurmrestd answered HTTP ${status} without JSON: ${text.slice(0, 200)}`,
      );
    }
    const errors = errorsOf(parsed);
    if (errors.length > 0) throw new SlurmApiError(status, errors, parsed);
    if (status >= 400) throw new BackendUnavailableError(`slurmrestd answered HTTP ${status}`);
    return parsed;
  }
}
