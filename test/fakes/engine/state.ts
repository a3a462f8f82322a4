// What the fake engine holds and what tests can script on it (shared by its route files).
import type { EventBus } from './events.js';

/** How a job ends: its exit code and output, or killed for exceeding its memory limit. */
export type FakeOutcome = { exitCode: number; logs?: string } | 'oom';

export interface FakeContainer {
  id: string;
  name: string;
  /** The create body as received. */
  body: Record<string, unknown>;
  status: 'created' | 'running' | 'exited';
  created: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  oomKilled: boolean;
  logs: string;
}

export interface FakeTask {
  ID: string;
  ServiceID: string;
  CreatedAt: string;
  Status: {
    Timestamp: string;
    State: string;
    Message: string;
    Err?: string;
    ContainerStatus?: { ExitCode: number };
  };
}

export interface FakeService {
  ID: string;
  CreatedAt: string;
  /** The ServiceSpec as received. */
  Spec: Record<string, unknown> & { Name: string };
  task: FakeTask;
  logs: string;
}

/** How a pull of one image goes: lines of progress JSON, or an HTTP error before any output. */
export type PullScript =
  | { kind: 'ok' }
  | { kind: 'http-error'; status: number; message: string }
  | { kind: 'stream-error'; message: string }
  /** Hangs until `gate` settles, then behaves as `then`. */
  | { kind: 'wait'; gate: Promise<void>; then: 'ok' | { error: string } };

export interface EngineState {
  containers: Map<string, FakeContainer>;
  /** Swarm services by name. */
  services: Map<string, FakeService>;
  images: Set<string>;
  /** Networks by name, as GET /networks/:name answers them. */
  networks: Map<string, Record<string, unknown>>;
  /** GET /version's ApiVersion (what the swarm backend checks hardening support against). */
  apiVersion: string;
  pulls: Map<string, PullScript>;
  /** Answer the next create / start with this error. */
  failCreate?: { status: number; message: string } | undefined;
  failStart?: { status: number; message: string } | undefined;
  /** Say "exists" (409) on create although inspect said the name was free (a lost race). */
  conflictOnCreate?: boolean;
  /** Path prefixes (after the version) that never answer. */
  hang: Set<string>;
  /** Every request as "METHOD /path" (version prefix stripped), to count engine reads. */
  requests: string[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** `/v1.41/containers/json` → `/containers/json`. */
export function unversioned(path: string): string {
  return path.replace(/^\/v\d+\.\d+/, '');
}

/** What every route group of the fake works on: the state, the event stream, fresh ids. */
export interface EngineParts {
  state: EngineState;
  events: EventBus;
  /** `c1`, `svc2`, …: unique within one fake. */
  nextId(prefix: string): string;
}
