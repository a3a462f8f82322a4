// The service logger: pino JSON lines on stdout, written synchronously so that the last lines
// before a process.exit (a start-up failure, the end of a drain) are never lost.
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';

export function createLogger(level: Config['logLevel']): Logger {
  return pino(
    { level, base: { name: 'pman' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
}
