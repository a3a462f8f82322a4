// JobView: answers only when live and fresh, never stores a read an event overtook, and a resync
// replaces what changed without undoing newer reads. LogsCache: single flight, TTL, forget.
import { describe, expect, it } from 'vitest';
import { LogsCache } from '../../src/backends/engine/logs-cache.js';
import { JobView } from '../../src/view.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('JobView', () => {
  it('answers nothing until a resync made it live, and nothing once the stream is down', () => {
    const view = new JobView<string>({ maxAgeMs: 1000 });
    view.store('a', 'running', view.ticket());
    expect(view.lookup('a')).toBeUndefined();
    view.replaceAll(new Map([['a', 'running']]), view.ticket());
    expect(view.lookup('a')).toBe('running');
    view.markDown();
    expect(view.live).toBe(false);
    expect(view.lookup('a')).toBeUndefined();
    expect(view.snapshot()).toBeUndefined();
  });

  it('stops answering when the last resync is older than maxAgeMs', () => {
    const c = clock();
    const view = new JobView<string>({ maxAgeMs: 1000, now: c.now });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    c.advance(1000);
    expect(view.lookup('a')).toBe('x');
    c.advance(1);
    expect(view.fresh).toBe(false);
    expect(view.lookup('a')).toBeUndefined();
  });

  it('an invalidated job is not answered until a read taken after the event lands', () => {
    const view = new JobView<string>({ maxAgeMs: 1000 });
    view.replaceAll(new Map([['a', 'running']]), view.ticket());
    const before = view.ticket();
    view.invalidate('a');
    expect(view.lookup('a')).toBeUndefined();
    expect(view.has('a')).toBe(true);
    view.store('a', 'running (stale read)', before);
    expect(view.lookup('a')).toBeUndefined();
    view.store('a', 'exited', view.ticket());
    expect(view.lookup('a')).toBe('exited');
  });

  it('a resync keeps newer reads and drops jobs the engine no longer lists', () => {
    const view = new JobView<string>({ maxAgeMs: 1000 });
    view.replaceAll(
      new Map([
        ['a', 'running'],
        ['gone', 'running'],
      ]),
      view.ticket(),
    );
    const listStarted = view.ticket();
    view.invalidate('a');
    view.store('a', 'exited', view.ticket());
    view.invalidate('new');
    view.store('new', 'created', view.ticket());
    view.replaceAll(new Map([['a', 'running (listed before the event)']]), listStarted);
    expect(view.lookup('a')).toBe('exited');
    expect(view.lookup('gone')).toBeUndefined();
    expect(view.has('gone')).toBe(false);
    expect(view.lookup('new')).toBe('created');
  });

  it('snapshot refuses while any job is unsettled', () => {
    const view = new JobView<string>({ maxAgeMs: 1000 });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    expect(view.snapshot()).toEqual(new Map([['a', 'x']]));
    view.invalidate('a');
    expect(view.snapshot()).toBeUndefined();
  });

  it('remove forgets the job and overtakes reads in flight', () => {
    const view = new JobView<string>({ maxAgeMs: 1000 });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    view.remove('a');
    expect(view.size).toBe(0);
    expect(view.lookup('a')).toBeUndefined();
  });
});

describe('LogsCache', () => {
  it('shares one read among concurrent callers and reuses it within the TTL', async () => {
    const c = clock();
    const cache = new LogsCache(1000, c.now);
    let reads = 0;
    const read = (): Promise<string> => Promise.resolve(`tail ${++reads}`);
    const [x, y] = await Promise.all([cache.get('a', 'v', read), cache.get('a', 'v', read)]);
    expect([x, y, reads]).toEqual(['tail 1', 'tail 1', 1]);
    c.advance(1000);
    expect(await cache.get('a', 'v', read)).toBe('tail 1');
    c.advance(1);
    expect(await cache.get('a', 'v', read)).toBe('tail 2');
  });

  it('keeps variants and jobs apart, and forget(name) leaves names it prefixes alone', async () => {
    const cache = new LogsCache(1000, () => 0);
    await cache.get('a', 'v', () => Promise.resolve('a'));
    await cache.get('a-1', 'v', () => Promise.resolve('a-1'));
    expect(await cache.get('a', 'w', () => Promise.resolve('a/w'))).toBe('a/w');
    cache.forget('a');
    expect(await cache.get('a', 'v', () => Promise.resolve('a again'))).toBe('a again');
    expect(await cache.get('a-1', 'v', () => Promise.resolve('changed'))).toBe('a-1');
  });

  it('does not cache failures', async () => {
    const cache = new LogsCache(1000, () => 0);
    await expect(cache.get('a', 'v', () => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
    await Promise.resolve();
    expect(await cache.get('a', 'v', () => Promise.resolve('up'))).toBe('up');
  });
});
