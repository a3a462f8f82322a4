// Swarm routes of the fake engine (services, their one task each, nodes, service logs), the
// events a real manager raises for them, and how a test ends a service's task.
import type { Context, Hono } from 'hono';
import type { ErrorAnswer } from './images.js';
import { chunked, tailLines, tty } from './logs.js';
import type { EngineParts, FakeOutcome, FakeService, FakeTask } from './state.js';

const OOM_EXIT_CODE = 137;

/** A published port as the engine reports it (service Endpoint, task PortStatus). */
interface FakePort {
  Protocol: string;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode: string;
}

/** What a service job's spec asks of the swarm (issue 15): restart on any end, one port. */
function restartsOnAnyEnd(spec: Record<string, unknown>): { delayMs: number } | undefined {
  const template = spec.TaskTemplate as { RestartPolicy?: { Condition?: string; Delay?: number } };
  const policy = template.RestartPolicy;
  if (policy?.Condition !== 'any') return undefined;
  return { delayMs: (policy.Delay ?? 5e9) / 1e6 };
}

function portsOf(spec: Record<string, unknown>): FakePort[] {
  return ((spec.EndpointSpec as { Ports?: FakePort[] } | undefined)?.Ports ?? []).map((p) => ({
    ...p,
  }));
}

function replicasOf(spec: Record<string, unknown>): number {
  return (
    (spec as { Mode?: { Replicated?: { Replicas?: number } } }).Mode?.Replicated?.Replicas ?? 1
  );
}

function labelsOf(spec: Record<string, unknown>): Record<string, string> {
  return (spec.Labels ?? {}) as Record<string, string>;
}

export class SwarmRoutes {
  readonly #parts: EngineParts;
  /** Ended tasks of services the swarm restarted (service jobs), by service name, oldest first. */
  readonly #history = new Map<string, FakeTask[]>();
  /** The ingress range's next port (a real swarm starts at 30000). */
  #nextIngressPort = 30000;
  /** Host mode without a pinned port: the node's next dynamic port. */
  #nextHostPort = 32768;
  /** Each service's Endpoint.Ports (ingress ports allocated at create), by service id. */
  readonly #endpoints = new Map<string, FakePort[]>();

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
    // The task that ends, even once a restart (service jobs) put a replacement in its place.
    const task = s.task;
    const settle = (): void => {
      task.Status = {
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
    this.#restartLater(s);
  }

  /**
   * A service job's swarm (restart condition any): the ended task stays listed, and its
   * replacement waits in `ready` for the spec's restart delay, then runs (as a real manager does).
   */
  #restartLater(s: FakeService): void {
    const restart = restartsOnAnyEnd(s.Spec);
    if (restart === undefined || replicasOf(s.Spec) === 0) return;
    const ended = s.task;
    this.#history.set(s.Spec.Name, [...(this.#history.get(s.Spec.Name) ?? []), ended]);
    const now = new Date().toISOString();
    s.task = {
      ID: this.#parts.nextId('task'),
      ServiceID: s.ID,
      CreatedAt: now,
      Status: { Timestamp: now, State: 'ready', Message: 'prepared' },
    };
    const replacement = s.task;
    setTimeout(() => {
      if (s.task !== replacement || replicasOf(s.Spec) === 0) return;
      s.task = this.#running(s, replacement);
      this.#taskEvent(s, 'start');
    }, restart.delayMs).unref();
  }

  /** The task running, with its host-mode ports (a pinned port, else the next dynamic one). */
  #running(s: FakeService, task: FakeTask): FakeTask {
    const host = portsOf(s.Spec)
      .filter((p) => p.PublishMode === 'host')
      .map((p) => ({ ...p, PublishedPort: p.PublishedPort ?? this.#nextHostPort++ }));
    const status = {
      Timestamp: new Date().toISOString(),
      State: 'running',
      Message: 'started',
      ...(host.length > 0 && { PortStatus: { Ports: host } }),
    };
    return { ...task, Status: status };
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
        // One replica: one task, running at once here.
        task: {
          ID: this.#parts.nextId('task'),
          ServiceID: id,
          CreatedAt: now,
          Status: { Timestamp: now, State: 'running', Message: 'started' },
        },
        logs: '',
      };
      service.task = this.#running(service, service.task);
      state.services.set(spec.Name, service);
      this.#history.delete(spec.Name);
      // Ingress: the swarm allocates the published port for the service, once.
      const ingress = portsOf(spec).filter((p) => p.PublishMode === 'ingress');
      for (const p of ingress) p.PublishedPort ??= this.#nextIngressPort++;
      this.#endpoints.set(id, [
        ...ingress,
        ...portsOf(spec).filter((p) => p.PublishMode === 'host'),
      ]);
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
      return c.json(list.map((s) => this.#inspectOf(s)));
    });

    app.get('/services/:id', (c) => {
      const s = find(c);
      return s === undefined ? err(c, 404, 'service not found') : c.json(this.#inspectOf(s));
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
      if (replicas === 0 && s.task.Status.State === 'ready') {
        // A replacement waiting out the restart delay is dropped.
        s.task = {
          ...s.task,
          Status: { ...s.task.Status, State: 'shutdown', Message: 'shutdown' },
        };
      }
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
      this.#history.delete(s.Spec.Name);
      this.#serviceEvent(s, 'remove');
      return c.body(null, 200);
    });

    app.get('/tasks', (c) => {
      const filters = JSON.parse(c.req.query('filters') ?? '{}') as { service?: string[] };
      const ids = new Set(filters.service ?? []);
      const tasks = [...state.services.values()]
        .filter((s) => ids.has(s.ID))
        .flatMap((s) => [...(this.#history.get(s.Spec.Name) ?? []), s.task]);
      return c.json(tasks);
    });
  }

  #inspectOf(s: FakeService): Record<string, unknown> {
    const ports = this.#endpoints.get(s.ID) ?? [];
    return {
      ID: s.ID,
      Version: { Index: 1 },
      CreatedAt: s.CreatedAt,
      UpdatedAt: s.CreatedAt,
      Spec: s.Spec,
      ...(ports.length > 0 && { Endpoint: { Ports: ports } }),
    };
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
