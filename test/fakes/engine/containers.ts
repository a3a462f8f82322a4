// Container routes of the fake engine (create, list, inspect, start, logs, remove), the events a
// real engine raises for them, and how a test ends a container's process.
import type { Context, Hono } from 'hono';
import type { ErrorAnswer } from './images.js';
import { chunked, framed, tailLines } from './logs.js';
import type { EngineParts, FakeContainer, FakeOutcome } from './state.js';
import { ZERO_TIME } from './state.js';

function labelsOf(c: FakeContainer): Record<string, string> {
  return (c.body.Labels ?? {}) as Record<string, string>;
}

function inspectOf(c: FakeContainer): Record<string, unknown> {
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.created,
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: c.oomKilled,
      Dead: false,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: c.startedAt,
      FinishedAt: c.finishedAt,
    },
    Config: {
      Image: c.body.Image,
      Entrypoint: c.body.Entrypoint,
      Cmd: c.body.Cmd,
      Labels: labelsOf(c),
    },
    HostConfig: c.body.HostConfig ?? {},
  };
}

export class ContainerRoutes {
  readonly #parts: EngineParts;
  /** Outcomes told before the container's start arrived (the docker backend starts it in the
   *  background after create answered): applied right after the start, as a quick job ends. */
  readonly #early = new Map<string, FakeOutcome>();

  constructor(parts: EngineParts) {
    this.#parts = parts;
  }

  /** Ends a running container: exit code and output, or an OOM kill (exit code 137). */
  finish(name: string, outcome: FakeOutcome): void {
    const c = this.#parts.state.containers.get(name);
    if (c === undefined) throw new Error(`fake engine: no container ${name}`);
    if (c.status === 'created') {
      this.#early.set(name, outcome);
      return;
    }
    c.status = 'exited';
    c.finishedAt = new Date().toISOString();
    if (outcome === 'oom') {
      c.oomKilled = true;
      c.exitCode = 137;
      this.#emit(c, 'oom');
    } else {
      c.exitCode = outcome.exitCode;
      c.logs += outcome.logs ?? '';
    }
    this.#emit(c, 'die');
  }

  route(app: Hono, err: ErrorAnswer): void {
    const state = this.#parts.state;
    const byName = (c: Context): FakeContainer | undefined =>
      state.containers.get(decodeURIComponent(c.req.param('name') ?? ''));

    app.post('/containers/create', async (c) => {
      const name = c.req.query('name') ?? '';
      const body = await c.req.json<Record<string, unknown>>();
      if (state.conflictOnCreate === true || state.containers.has(name)) {
        return err(c, 409, `Conflict. The container name "/${name}" is already in use`);
      }
      if (state.failCreate !== undefined)
        return err(c, state.failCreate.status, state.failCreate.message);
      if (!state.images.has(String(body.Image)))
        return err(c, 404, `No such image: ${String(body.Image)}`);
      const container: FakeContainer = {
        id: this.#parts.nextId('c'),
        name,
        body,
        status: 'created',
        created: new Date().toISOString(),
        startedAt: ZERO_TIME,
        finishedAt: ZERO_TIME,
        exitCode: 0,
        oomKilled: false,
        logs: '',
      };
      state.containers.set(name, container);
      this.#emit(container, 'create');
      return c.json({ Id: container.id, Warnings: [] }, 201);
    });

    app.get('/containers/json', (c) =>
      c.json(
        [...state.containers.values()].map((x) => ({
          Id: x.id,
          Names: [`/${x.name}`],
          Labels: labelsOf(x),
          State: x.status,
        })),
      ),
    );

    app.get('/containers/:name/json', (c) => {
      const x = byName(c);
      return x === undefined ? err(c, 404, 'No such container') : c.json(inspectOf(x));
    });

    app.post('/containers/:name/start', (c) => {
      const x = byName(c);
      if (x === undefined) return err(c, 404, 'No such container');
      if (state.failStart !== undefined)
        return err(c, state.failStart.status, state.failStart.message);
      if (x.status !== 'created') return c.body(null, 304);
      x.status = 'running';
      x.startedAt = new Date().toISOString();
      this.#emit(x, 'start');
      const early = this.#early.get(x.name);
      this.#early.delete(x.name);
      if (early !== undefined) setImmediate(() => this.finish(x.name, early));
      return c.body(null, 204);
    });

    // Cancel (issue 13): the backend sends SIGTERM, then `stop -t grace`. This fake's jobs obey
    // SIGTERM at once (exit 143); a stop of a container that no longer runs is a 304, as dockerd's.
    app.post('/containers/:name/kill', (c) => {
      const x = byName(c);
      if (x === undefined) return err(c, 404, 'No such container');
      if (x.status !== 'running') return err(c, 409, `Container ${x.id} is not running`);
      const signal = c.req.query('signal') ?? 'SIGKILL';
      this.#end(x, signal === 'SIGTERM' || signal === '15' ? 143 : 137);
      return c.body(null, 204);
    });

    app.post('/containers/:name/stop', (c) => {
      const x = byName(c);
      if (x === undefined) return err(c, 404, 'No such container');
      if (x.status !== 'running') return c.body(null, 304);
      this.#end(x, 143);
      return c.body(null, 204);
    });

    app.get('/containers/:name/logs', (c) => {
      const x = byName(c);
      if (x === undefined) return err(c, 404, 'No such container');
      const body = framed(tailLines(x.logs, c.req.query('tail')));
      return c.body(chunked(body), 200, {
        'Content-Type': 'application/vnd.docker.multiplexed-stream',
      });
    });

    app.delete('/containers/:name', (c) => {
      const x = byName(c);
      if (x === undefined) return err(c, 404, 'No such container');
      state.containers.delete(x.name);
      this.#early.delete(x.name);
      this.#emit(x, 'destroy');
      return c.body(null, 204);
    });
  }

  /** A running container killed by a signal. */
  #end(x: FakeContainer, exitCode: number): void {
    x.status = 'exited';
    x.finishedAt = new Date().toISOString();
    x.exitCode = exitCode;
    this.#emit(x, 'kill');
    this.#emit(x, 'die');
  }

  #emit(c: FakeContainer, action: string): void {
    this.#parts.events.publish({
      Type: 'container',
      Action: action,
      Actor: {
        ID: c.id,
        Attributes: { ...labelsOf(c), name: c.name, image: String(c.body.Image) },
      },
    });
  }
}
