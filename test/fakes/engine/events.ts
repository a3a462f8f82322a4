// GET /events of the fake engine: every open stream gets the events its filters (type, label)
// select, as JSON lines, until the client goes away.
import type { Hono } from 'hono';
import { stream } from 'hono/streaming';

export interface FakeEvent {
  Type: 'container' | 'service';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

type Filters = Partial<Record<'type' | 'label', string[]>>;

function matches(event: FakeEvent, filters: Filters): boolean {
  if (filters.type !== undefined && !filters.type.includes(event.Type)) return false;
  for (const label of filters.label ?? []) {
    const [key = '', value] = label.split('=', 2);
    const actual = event.Actor.Attributes[key];
    if (actual === undefined || (value !== undefined && actual !== value)) return false;
  }
  return true;
}

export class EventBus {
  readonly #listeners = new Set<(event: FakeEvent) => void>();
  /** GET /events answers 500: the backend's view never goes live. */
  down = false;

  publish(event: FakeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  route(app: Hono): void {
    app.get('/events', (c) => {
      if (this.down) return c.json({ message: 'events unavailable' }, 500);
      const filters = JSON.parse(c.req.query('filters') ?? '{}') as Filters;
      return stream(c, async (s) => {
        const send = (event: FakeEvent): void => {
          if (matches(event, filters)) void s.write(`${JSON.stringify(event)}\n`);
        };
        this.#listeners.add(send);
        await new Promise<void>((resolve) => s.onAbort(resolve));
        this.#listeners.delete(send);
      });
    });
  }
}
