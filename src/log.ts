// The service logger: pino, written synchronously so that the last lines before a process.exit (a
// start-up failure, the end of a drain) are never lost — JSON lines, or pino-pretty's readable
// lines when a person watches a terminal (issue 14). Every line written while a request is being
// served, by any component (the job service, a backend, onError), carries that request's id: the
// request-id middleware runs the request inside `requestScope`, and the logger's mixin reads it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from './config/config.js';

export interface RequestScope {
  /** The X-Request-Id answered (the client's, when valid, or one generated). */
  reqId: string;
}

/** The request being served in this async context (and everything it started). */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/** The current request's id, or undefined outside a request. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.reqId;
}

export interface LoggerOptions {
  /** pino-pretty's colourised, one-line-per-entry output instead of JSON lines. */
  pretty?: boolean;
  /** Where the lines go (tests capture them); default stdout. */
  destination?: DestinationStream;
}

export function createLogger(level: Config['logLevel'], options: LoggerOptions = {}): Logger {
  const destination =
    options.destination ??
    (options.pretty === true
      ? PinoPretty({
          destination: 1,
          sync: true,
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          // One line per entry (a request is one line to scan). The backend's capabilities dump
          // and the banner's fields (its text says it all) are for machines: JSON keeps them.
          singleLine: true,
          ignore: 'pid,hostname,name,capabilities,banner',
        })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level,
      base: { name: 'pman' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The line's own reqId (the request log names it explicitly) wins over the scope's.
      mixin: () => {
        const reqId = currentRequestId();
        return reqId === undefined ? {} : { reqId };
      },
    },
    destination,
  );
}
