// A small fake Docker Engine API (and swarm manager) on 127.0.0.1: containers, services and their
// tasks, logs, the event stream, scripted pulls, engine errors on create/start, calls that never
// answer. Real dockerode talks real HTTP to it, so URLs, query strings and bodies are exercised as
// against dockerd; tests end jobs with finish() and read what was sent from `containers`/`services`.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { ContainerRoutes } from './engine/containers.js';
import { EventBus } from './engine/events.js';
import { errorAnswer, imageRoutes } from './engine/images.js';
import { networkRoutes } from './engine/networks.js';
import type { EngineState, FakeOutcome } from './engine/state.js';
import { unversioned } from './engine/state.js';
import { SwarmRoutes } from './engine/swarm.js';

export type { FakeContainer, FakeOutcome, FakeService, PullScript } from './engine/state.js';

export interface EngineFake extends EngineState {
  url: { host: string; port: number };
  /** The event stream; `events.down = true` makes GET /events fail (no live view). */
  events: EventBus;
  /** Ends the job `name` (a container, or a service's task; `taskLagMs`: see SwarmRoutes.finish). */
  finish(name: string, outcome: FakeOutcome, taskLagMs?: number): void;
  /** The running job `name` prints `text` (a container's or a service's log). */
  print(name: string, text: string): void;
  close(): Promise<void>;
}

export async function startEngineFake(): Promise<EngineFake> {
  const app = new Hono();
  const state: EngineState = {
    containers: new Map(),
    services: new Map(),
    images: new Set(),
    networks: new Map(),
    apiVersion: '1.41',
    pulls: new Map(),
    hang: new Set(),
    requests: [],
  };
  const events = new EventBus();
  let seq = 0;
  const parts = { state, events, nextId: (prefix: string) => `${prefix}${++seq}` };
  const containers = new ContainerRoutes(parts);
  const swarm = new SwarmRoutes(parts);

  app.use('*', async (c, next) => {
    const path = unversioned(c.req.path);
    state.requests.push(`${c.req.method} ${path}`);
    for (const prefix of state.hang) {
      if (path.startsWith(prefix)) return new Promise<Response>(() => undefined);
    }
    await next();
  });
  app.get('/_ping', (c) => c.text('OK'));
  app.get('/info', (c) =>
    c.json({
      NCPU: 4,
      MemTotal: 8 * 2 ** 30,
      Swarm: { LocalNodeState: 'active', ControlAvailable: true },
    }),
  );
  app.get('/version', (c) => c.json({ Version: '20.10.24', ApiVersion: state.apiVersion }));
  events.route(app);
  networkRoutes(app, state, errorAnswer);
  imageRoutes(app, state, errorAnswer);
  containers.route(app, errorAnswer);
  swarm.route(app, errorAnswer);

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: { host: '127.0.0.1', port },
    events,
    print(name: string, text: string): void {
      const job = state.containers.get(name) ?? state.services.get(name);
      if (job === undefined) throw new Error(`fake engine: no job ${name}`);
      job.logs += text;
    },
    finish(name: string, outcome: FakeOutcome, taskLagMs?: number): void {
      if (state.containers.has(name)) containers.finish(name, outcome);
      else swarm.finish(name, outcome, taskLagMs);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
