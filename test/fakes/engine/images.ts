// Image routes of the fake engine: inspect answers from the image set, pulls follow their script.
import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { EngineState } from './state.js';
import { unversioned } from './state.js';

export function imageRoutes(app: Hono, state: EngineState, err: ErrorAnswer): void {
  app.get('/images/*', (c) => {
    const name = decodeURIComponent(
      unversioned(c.req.path)
        .slice('/images/'.length)
        .replace(/\/json$/, ''),
    );
    return state.images.has(name)
      ? c.json({ Id: `sha256:${name}` })
      : err(c, 404, `No such image: ${name}`);
  });

  app.post('/images/create', (c) => {
    const image = `${c.req.query('fromImage') ?? ''}:${c.req.query('tag') ?? 'latest'}`;
    const script = state.pulls.get(image) ?? {
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
        state.images.add(image);
        await s.write(`${JSON.stringify({ status: 'Download complete' })}\n`);
      } else {
        await s.write(
          `${JSON.stringify({ errorDetail: { message: outcome.error }, error: outcome.error })}\n`,
        );
      }
    });
  });
}

/** The engine's error body: `{"message": …}` with the status. */
export type ErrorAnswer = (c: Context, status: number, message: string) => Response;

export const errorAnswer: ErrorAnswer = (c, status, message) => c.json({ message }, status as 400);
