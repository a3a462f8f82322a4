// A small fake Docker Engine API on 127.0.0.1 for the docker backend's error paths: scripted
// pulls (slow, failing), engine errors on create/start, calls that never answer. Real dockerode
// talks real HTTP to it, so URLs, query strings and bodies are exercised as against dockerd.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';

export interface FakeContainer {
  id: string;
  name: string;
  /** The create body as received. */
  body: Record<string, unknown>;
  status: 'created' | 'running' | 'exited';
  created: string;
  startedAt: string;
}

/** How a pull of one image goes: lines of progress JSON, or an HTTP error before any output. */
export type PullScript =
  | { kind: 'ok' }
  | { kind: 'http-error'; status: number; message: string }
  | { kind: 'stream-error'; message: string }
  /** Hangs until `release` is called, then behaves as `then`. */
  | { kind: 'wait'; gate: Promise<void>; then: 'ok' | { error: string } };

export interface EngineFake {
  url: { host: string; port: number };
  containers: Map<string, FakeContainer>;
  images: Set<string>;
  pulls: Map<string, PullScript>;
  /** Answer the next create / start with this error. */
  failCreate?: { status: number; message: string } | undefined;
  failStart?: { status: number; message: string } | undefined;
  /** Say "exists" (409) on create although inspect said the name was free (a lost race). */
  conflictOnCreate?: boolean;
  /** Path prefixes (after the version) that never answer. */
  hang: Set<string>;
  close(): Promise<void>;
}

const ZERO = '0001-01-01T00:00:00Z';

function inspectOf(c: FakeContainer): Record<string, unknown> {
  const hostConfig = (c.body.HostConfig ?? {}) as Record<string, unknown>;
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.created,
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      ExitCode: 0,
      Error: '',
      StartedAt: c.startedAt,
      FinishedAt: ZERO,
    },
    Config: {
      Image: c.body.Image,
      Entrypoint: c.body.Entrypoint,
      Cmd: c.body.Cmd,
      Labels: c.body.Labels ?? {},
    },
    HostConfig: hostConfig,
  };
}

export async function startEngineFake(): Promise<EngineFake> {
  const app = new Hono();
  let seq = 0;
  const fake: Omit<EngineFake, 'url' | 'close'> = {
    containers: new Map(),
    images: new Set(),
    pulls: new Map(),
    hang: new Set(),
  };
  const err = (c: Context, status: number, message: string): Response =>
    c.json({ message }, status as 400);
  const strip = (path: string): string => path.replace(/^\/v\d+\.\d+/, '');

  app.use('*', async (c, next) => {
    const path = strip(c.req.path);
    for (const prefix of fake.hang) {
      if (path.startsWith(prefix)) return new Promise<Response>(() => undefined);
    }
    await next();
  });
  app.get('/_ping', (c) => c.text('OK'));
  app.get('/info', (c) => c.json({ NCPU: 4, MemTotal: 8 * 2 ** 30 }));

  app.get('/images/*', (c) => {
    const name = decodeURIComponent(
      strip(c.req.path)
        .slice('/images/'.length)
        .replace(/\/json$/, ''),
    );
    return fake.images.has(name)
      ? c.json({ Id: `sha256:${name}` })
      : err(c, 404, `No such image: ${name}`);
  });

  app.post('/images/create', (c) => {
    const image = `${c.req.query('fromImage') ?? ''}:${c.req.query('tag') ?? 'latest'}`;
    const script = fake.pulls.get(image) ?? {
      kind: 'http-error',
      status: 500,
      message: 'no registry',
    };
    if (script.kind === 'http-error') return err(c, script.status, script.message);
    return stream(c, async (s) => {
      await s.write(`${JSON.stringify({ status: `Pulling from ${image}` })}\n`);
      let outcome: 'ok' | { error: string } =
        script.kind === 'stream-error' ? { error: script.message } : 'ok';
      if (script.kind === 'wait') {
        await script.gate;
        outcome = script.then;
      }
      if (outcome === 'ok') {
        fake.images.add(image);
        await s.write(`${JSON.stringify({ status: 'Download complete' })}\n`);
      } else {
        await s.write(
          `${JSON.stringify({ errorDetail: { message: outcome.error }, error: outcome.error })}\n`,
        );
      }
    });
  });

  app.post('/containers/create', async (c) => {
    const name = c.req.query('name') ?? '';
    const body = await c.req.json<Record<string, unknown>>();
    if (fake.conflictOnCreate === true || fake.containers.has(name)) {
      return err(c, 409, `Conflict. The container name "/${name}" is already in use`);
    }
    if (fake.failCreate !== undefined)
      return err(c, fake.failCreate.status, fake.failCreate.message);
    if (!fake.images.has(String(body.Image)))
      return err(c, 404, `No such image: ${String(body.Image)}`);
    const id = `c${++seq}`;
    fake.containers.set(name, {
      id,
      name,
      body,
      status: 'created',
      created: new Date().toISOString(),
      startedAt: ZERO,
    });
    return c.json({ Id: id, Warnings: [] }, 201);
  });

  app.get('/containers/json', (c) => {
    const summaries = [...fake.containers.values()].map((x) => ({
      Id: x.id,
      Names: [`/${x.name}`],
      Labels: x.body.Labels ?? {},
      State: x.status,
    }));
    return c.json(summaries);
  });

  const byName = (c: Context): FakeContainer | undefined =>
    fake.containers.get(decodeURIComponent(c.req.param('name') ?? ''));

  app.get('/containers/:name/json', (c) => {
    const x = byName(c);
    return x === undefined ? err(c, 404, 'No such container') : c.json(inspectOf(x));
  });

  app.post('/containers/:name/start', (c) => {
    const x = byName(c);
    if (x === undefined) return err(c, 404, 'No such container');
    if (fake.failStart !== undefined) return err(c, fake.failStart.status, fake.failStart.message);
    x.status = 'running';
    x.startedAt = new Date().toISOString();
    return c.body(null, 204);
  });

  app.delete('/containers/:name', (c) => {
    const x = byName(c);
    if (x === undefined) return err(c, 404, 'No such container');
    fake.containers.delete(x.name);
    return c.body(null, 204);
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: { host: '127.0.0.1', port },
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
