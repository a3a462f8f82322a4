// Ledgers for the tests: in memory or in a fresh STATE_DIR, a clock the test moves, closed after
// each test (also when it fails).
import { afterEach } from 'vitest';
import type { JobSpec } from '../../../src/domain/job.js';
import { Ledger } from '../../../src/store/ledger.js';
import type { LedgerOptions } from '../../../src/store/ledger.js';
import { storeFixtures } from './fixtures.js';

export const T0 = Date.UTC(2024, 4, 7, 15, 2, 11);

/** A clock that stands still until the test moves it. */
export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export function clock(start = T0): Clock {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

export function spec(jid: string, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: jid,
    image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
    command: ['simpledsapp', '--prefix', 'le', '/share/incoming', '/share/outgoing'],
    env: { HOME: '/tmp' },
    resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 2000, gpus: 0 },
    mounts: [
      {
        kind: 'host',
        source: '/var/local/storeBase',
        subPath: `key-${jid}/incoming`,
        containerPath: '/share/incoming',
        readOnly: true,
      },
    ],
    labels: {},
    ...overrides,
  };
}

export function ledgerFixtures(): {
  fresh: () => string;
  memory: (options?: LedgerOptions) => Ledger;
  onDisk: (stateDir: string, options?: LedgerOptions) => Ledger;
} {
  const { fresh } = storeFixtures();
  const ledgers: Ledger[] = [];
  afterEach(() => {
    for (const ledger of ledgers.splice(0)) ledger.close();
  });
  const keep = (ledger: Ledger): Ledger => {
    ledgers.push(ledger);
    return ledger;
  };
  return {
    fresh,
    memory: (options) => keep(Ledger.inMemory(options)),
    onDisk: (stateDir, options) => keep(Ledger.open(stateDir, options)),
  };
}
