// The one place where errors become HTTP statuses (architecture.md §7, api.md §13).
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  DirectoryError,
  ImageNotAllowedError,
  InvalidSpecError,
  NotFoundError,
  StoreUnavailableError,
  TooManyRequestsError,
  UnsupportedError,
  ValidationError,
} from '../domain/errors.js';
import type { JobDir } from '../domain/errors.js';
import { BodyTooLargeError, UnsupportedMediaTypeError } from './errors.js';
import { jsonResponse } from './wire/response.js';

interface ErrorAnswer {
  status: number;
  message: string | Readonly<Record<string, string>>;
  headers?: Record<string, string>;
}

/** The 500 body for a deployment fault (RBAC, storeBase permissions); the detail is logged. */
export const BACKEND_REFUSED_TEXT =
  'The backend refused the request because of how this server is deployed; the reason is in the server log.';

/** Maps a thrown value to status, body message and headers; undefined = our bug (500). */
export function toErrorAnswer(err: unknown): ErrorAnswer | undefined {
  if (err instanceof ValidationError) return { status: 400, message: err.fields };
  if (err instanceof DirectoryError) return { status: 400, message: wireDirFields(err.problems) };
  if (err instanceof InvalidSpecError || err instanceof UnsupportedError) {
    return { status: 400, message: err.message };
  }
  if (err instanceof ImageNotAllowedError) return { status: 403, message: err.message };
  if (err instanceof NotFoundError) return { status: 404, message: err.message };
  if (err instanceof ConflictError) return { status: 409, message: err.message };
  if (err instanceof BodyTooLargeError) {
    // The rest of the body is never read, so the connection cannot carry another request.
    return { status: 413, message: err.message, headers: { Connection: 'close' } };
  }
  if (err instanceof UnsupportedMediaTypeError) return { status: 415, message: err.message };
  if (err instanceof TooManyRequestsError) {
    return {
      status: 429,
      message: err.message,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) },
    };
  }
  if (err instanceof BackendUnavailableError || err instanceof StoreUnavailableError) {
    return {
      status: 503,
      message: err.message,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) },
    };
  }
  // Its text names host paths, namespaces and service accounts: for the log (onError), not the wire.
  if (err instanceof BackendRefusedError) return { status: 500, message: BACKEND_REFUSED_TEXT };
  if (err instanceof HTTPException) {
    return {
      status: err.status,
      message: err.message,
      headers: err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : undefined,
    };
  }
  return undefined;
}

/** The wire names of a job's directories, in pman's field order (input before output). */
const DIR_FIELDS = { input: 'input_dir', output: 'output_dir' } as const satisfies Record<
  JobDir,
  string
>;

function wireDirFields(problems: DirectoryError['problems']): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [dir, field] of Object.entries(DIR_FIELDS) as [JobDir, string][]) {
    const text = problems[dir];
    if (text !== undefined) fields[field] = text;
  }
  return fields;
}

/** Hono onError handler: every body is exactly {"message": …}; ≥ 500 is logged with its stack. */
export function onError(log: Logger, indent?: number) {
  return (err: Error, c: Context): Response => {
    const answer = toErrorAnswer(err);
    if (answer === undefined) {
      log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
      return jsonResponse(500, { message: 'Internal Server Error' }, indent);
    }
    if (answer.status >= 500) {
      log.error({ err, method: c.req.method, path: c.req.path }, 'backend error');
    }
    return jsonResponse(answer.status, { message: answer.message }, indent, answer.headers);
  };
}
