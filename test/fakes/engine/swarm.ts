// Swarm routes of the fake engine (services, their one task each, nodes, service logs), the
// events a real manager raises for them, and how a test ends a service's task.
import type { Context, Hono } from 'hono';
import type { ErrorAnswer } from './images.js';
import { chunked, tailLines, tty } from './logs.js';
import type { EngineParts, FakeOutcome, FakeService } from './state.js';

const OOM_EXIT_CODE = 137;

function labelsOf(spec: Record<string, unknown>): Record<string, string> {
  return (spec.Labels ?? {}) as Record<string, string>;
}

export class SwarmRoutes {
  readonly #parts: EngineParts;

  constructor(parts: EngineParts) {
    this.#parts = parts;
  }

  /**
   * Ends a service's running task: complete on exit 0, else failed with the exit code. With
   * `lagMs` the manager lists the task as running for that long after its container died, as a
   * real one may (and raises no event when the task then turns final).
   */
  finish(name: string, outcome: FakeOutcome, lagMs = 0): void {
    const s = this.#parts.state.services.get(name);
    if (s === undefined) throw new Error(`fake engine: no service ${name}`);
    const exitCode = outcome === 'oom' ? OOM_EXIT_CODE : outcome.exitCode;
    if (outcome !== 'oom') s.logs += outcome.logs ?? '';
    const settle = (): void => {
      s.task.Status = {
        Timestamp: new Date().toISOString(),
        State: exitCode === 0 ? 'complete' : 'failed',
        Message: exitCode === 0 ? 'finished' : 'started',
        ...(exitCode !== 0 && { Err: `task: non-zero exit (${exitCode})` }),
        ContainerStatus: { ExitCode: exitCode },
      };
    };
    if (lagMs > 0) setTimeout(settle, lagMs).unref();
    else settle();
    this.#taskEvent(s, 'die');
  }

  route(app: Hono, err: ErrorAnswer): void {
    const state = this.#parts.state;
    /** By name or id, as the engine resolves them. */
    const find = (c: Context): FakeService | undefined => {
      const key = decodeURIComponent(c.req.param('id') ?? '');
      return state.services.get(key) ?? [...state.services.values()].find((s) => s.ID === key);
    };

    app.get('/nodes', (c) =>
      c.json([
        {
          Status: { State: 'ready' },
          Spec: { Availability: 'active' },
          Description: { Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 2 ** 30 } },
        },
      ]),
    );

    app.post('/services/create', async (c) => {
      const spec = await c.req.json<FakeService['Spec']>();
      if (state.services.has(spec.Name)) {
        return err(
          c,
          409,
          `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${spec.Name} already exists`,
        );
      }
      const id = this.#parts.nextId('svc');
      const now = new Date().toISOString();
      const service: FakeService = {
        ID: id,
        CreatedAt: now,
        Spec: spec,
        // One replica, restart condition none: one task, running at once here.
        task: {
          ID: this.#parts.nextId('task'),
          ServiceID: id,
          CreatedAt: now,
          Status: { Timestamp: now, State: 'running', Message: 'started' },
        },
        logs: '',
      };
      state.services.set(spec.Name, service);
      this.#serviceEvent(service, 'create');
      this.#taskEvent(service, 'start');
      return c.json({ ID: id }, 201);
    });

    app.get('/services', (c) => {
      const filters = JSON.parse(c.req.query('filters') ?? '{}') as { label?: string[] };
      const wanted = (filters.label ?? []).map((l) => l.split('=', 2));
      const list = [...state.services.values()].filter((s) =>
        wanted.every(([k = '', v]) => labelsOf(s.Spec)[k] === v),
      );
      return c.json(list.map(inspectOf));
    });

    app.get('/services/:id', (c) => {
      const s = find(c);
      return s === undefined ? err(c, 404, 'service not found') : c.json(inspectOf(s));
    });

    // Cancel (issue 13): the backend scales the service to 0 replicas with the version it read.
    // Its running task is shut down (SIGTERM: exit 143); the service and its log stay.
    app.post('/services/:id/update', async (c) => {
      const s = find(c);
      if (s === undefined) return err(c, 404, 'service not found');
      if (c.req.query('version') !== '1') {
        return err(c, 400, 'update out of sequence: the version query parameter is missing or old');
      }
      const spec = await c.req.json<FakeService['Spec']>();
      const replicas = (spec as { Mode?: { Replicated?: { Replicas?: number } } }).Mode?.Replicated
        ?.Replicas;
      s.Spec = spec;
      this.#serviceEvent(s, 'update');
      if (replicas === 0 && s.task.Status.State === 'running') {
        s.task.Status = {
          Timestamp: new Date().toISOString(),
          State: 'shutdown',
          Message: 'shutdown',
          ContainerStatus: { ExitCode: 143 },
        };
        this.#taskEvent(s, 'die');
      }
      return c.json({ Warnings: [] });
    });

    app.get('/services/:id/logs', (c) => {
      const s = find(c);
      if (s === undefined) return err(c, 404, 'service not found');
      const body = tty(tailLines(s.logs, c.req.query('tail')));
      return c.body(chunked(body), 200);
    });

    app.delete('/services/:id', (c) => {
      const s = find(c);
      if (s === undefined) return err(c, 404, 'service not found');
      state.services.delete(s.Spec.Name);
      this.#serviceEvent(s, 'remove');
      return c.body(null, 200);
    });

    app.get('/tasks', (c) => {
      const filters = JSON.parse(c.req.query('filters') ?? '{}') as { service?: string[] };
      const ids = new Set(filters.service ?? []);
      const tasks = [...state.services.values()].filter((s) => ids.has(s.ID)).map((s) => s.task);
      return c.json(tasks);
    });
  }

  #serviceEvent(s: FakeService, action: string): void {
    this.#parts.events.publish({
      Type: 'service',
      Action: action,
      Actor: { ID: s.ID, Attributes: { name: s.Spec.Name } },
    });
  }

  /** Task containers carry swarm's labels, not the service's. */
  #taskEvent(s: FakeService, action: string): void {
    this.#parts.events.publish({
      Type: 'container',
      Action: action,
      Actor: {
        ID: s.task.ID,
        Attributes: {
          name: `${s.Spec.Name}.1.${s.task.ID}`,
          'com.docker.swarm.service.name': s.Spec.Name,
        },
      },
    });
  }
}

function inspectOf(s: FakeService): Record<string, unknown> {
  return {
    ID: s.ID,
    Version: { Index: 1 },
    CreatedAt: s.CreatedAt,
    UpdatedAt: s.CreatedAt,
    Spec: s.Spec,
  };
}
