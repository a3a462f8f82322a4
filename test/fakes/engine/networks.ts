// Network routes of the fake engine: inspect and create, enough for the JOB_NETWORK start-up
// checks (a missing network is 404; create records the body so tests can read what was asked).
import type { Hono } from 'hono';
import type { ErrorAnswer } from './images.js';
import type { EngineState } from './state.js';

/** What every engine has without being asked (the docker backend checks SERVICE_NETWORK, by
 *  default `bridge`, at start-up). */
const BUILT_IN: Record<string, Record<string, unknown>> = {
  bridge: { Name: 'bridge', Driver: 'bridge', Scope: 'local', Internal: false },
};

export function networkRoutes(app: Hono, state: EngineState, err: ErrorAnswer): void {
  app.get('/networks/:name', (c) => {
    const name = decodeURIComponent(c.req.param('name'));
    const found = state.networks.get(name) ?? BUILT_IN[name];
    return found === undefined ? err(c, 404, `network ${name} not found`) : c.json(found);
  });
  app.post('/networks/create', async (c) => {
    const body = await c.req.json<Record<string, unknown>>();
    const name = String(body.Name);
    if (state.networks.has(name)) return err(c, 409, `network with name ${name} already exists`);
    state.networks.set(name, {
      Name: name,
      Driver: body.Driver ?? 'bridge',
      Scope: body.Driver === 'overlay' ? 'swarm' : 'local',
      Internal: body.Internal === true,
      Attachable: body.Attachable === true,
    });
    return c.json({ Id: `net-${name}` }, 201);
  });
}
