// JobCache: answers only when live and fresh, never stores a read an event overtook, and a resync
// replaces what changed without undoing newer reads. LogCache: single flight, TTL, forget.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Refresher, watchEvents } from '../../src/backends/shared/events.js';
import type { EngineEvent } from '../../src/backends/shared/events.js';
import { LogCache } from '../../src/backends/shared/log-cache.js';
import { until } from '../contract/backend.contract.js';
import { JobCache } from '../../src/backends/shared/job-cache.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('JobCache', () => {
  it('answers nothing until a resync made it live, and nothing once the stream is down', () => {
    const view = new JobCache<string>({ maxAgeMs: 1000 });
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
    const view = new JobCache<string>({ maxAgeMs: 1000, now: c.now });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    c.advance(1000);
    expect(view.lookup('a')).toBe('x');
    c.advance(1);
    expect(view.fresh).toBe(false);
    expect(view.lookup('a')).toBeUndefined();
  });

  it('an invalidated job is not answered until a read taken after the event lands', () => {
    const view = new JobCache<string>({ maxAgeMs: 1000 });
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
    const view = new JobCache<string>({ maxAgeMs: 1000 });
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

  it('a job stored while a resync was listing is kept: the list is older than it', () => {
    const view = new JobCache<string>({ maxAgeMs: 1000 });
    const listStarted = view.ticket();
    view.store('created-meanwhile', 'created', view.ticket());
    view.replaceAll(new Map(), listStarted);
    expect(view.lookup('created-meanwhile')).toBe('created');
  });

  it('snapshot refuses while any job is unsettled', () => {
    const view = new JobCache<string>({ maxAgeMs: 1000 });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    expect(view.snapshot()).toEqual(new Map([['a', 'x']]));
    view.invalidate('a');
    expect(view.snapshot()).toBeUndefined();
  });

  it('remove forgets the job and overtakes reads in flight', () => {
    const view = new JobCache<string>({ maxAgeMs: 1000 });
    view.replaceAll(new Map([['a', 'x']]), view.ticket());
    view.remove('a');
    expect(view.size).toBe(0);
    expect(view.lookup('a')).toBeUndefined();
  });
});

describe('LogCache', () => {
  it('shares one read among concurrent callers and reuses it within the TTL', async () => {
    const c = clock();
    const cache = new LogCache(1000, c.now);
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
    const cache = new LogCache(1000, () => 0);
    await cache.get('a', 'v', () => Promise.resolve('a'));
    await cache.get('a-1', 'v', () => Promise.resolve('a-1'));
    expect(await cache.get('a', 'w', () => Promise.resolve('a/w'))).toBe('a/w');
    cache.forget('a');
    expect(await cache.get('a', 'v', () => Promise.resolve('a again'))).toBe('a again');
    expect(await cache.get('a-1', 'v', () => Promise.resolve('changed'))).toBe('a-1');
  });

  it('does not cache failures', async () => {
    const cache = new LogCache(1000, () => 0);
    await expect(cache.get('a', 'v', () => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
    await Promise.resolve();
    expect(await cache.get('a', 'v', () => Promise.resolve('up'))).toBe('up');
  });
});

/** A stand-in for dockerode's getEvents: each call opens the next stream, or fails when told to. */
function fakeEngine() {
  const streams: PassThrough[] = [];
  let refuse = false;
  const docker = {
    getEvents(): Promise<NodeJS.ReadableStream> {
      if (refuse)
        return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      const s = new PassThrough();
      streams.push(s);
      return Promise.resolve(s);
    },
  } as unknown as Docker;
  return {
    docker,
    streams,
    setRefuse: (v: boolean) => {
      refuse = v;
    },
  };
}

describe('watchEvents', () => {
  it('parses events split across chunks, resyncs on connect, and reconnects after the stream ends', async () => {
    const engine = fakeEngine();
    const events: EngineEvent[] = [];
    let resyncs = 0;
    let downs = 0;
    const watch = watchEvents({
      docker: engine.docker,
      filters: { type: ['container'] },
      onEvent: (e) => events.push(e),
      resync: () => {
        resyncs++;
        return Promise.resolve();
      },
      onDown: () => downs++,
      log: pino({ level: 'silent' }),
      resyncMs: 60_000,
      initialBackoffMs: 1,
      maxBackoffMs: 4,
    });
    try {
      await until(
        'connected',
        () => Promise.resolve(resyncs),
        (n) => n === 1,
        5_000,
      );
      const first = engine.streams[0];
      const line = JSON.stringify({
        Type: 'container',
        Action: 'die',
        Actor: { ID: 'abc', Attributes: { name: 'job-ü', exitCode: '0' } },
      });
      const bytes = Buffer.from(`${line}\nnot json\n`);
      const cut = bytes.indexOf(0xbc); // inside the two bytes of "ü"
      first?.write(bytes.subarray(0, cut));
      first?.write(bytes.subarray(cut));
      await until(
        'event',
        () => Promise.resolve(events.length),
        (n) => n === 1,
        5_000,
      );
      expect(events[0]).toEqual({
        type: 'container',
        action: 'die',
        id: 'abc',
        attributes: { name: 'job-ü', exitCode: '0' },
      });
      engine.setRefuse(true);
      first?.end();
      await until(
        'down',
        () => Promise.resolve(downs),
        (n) => n >= 2,
        5_000,
      );
      engine.setRefuse(false);
      await until(
        'reconnected',
        () => Promise.resolve(resyncs),
        (n) => n === 2,
        5_000,
      );
      expect(engine.streams).toHaveLength(2);
    } finally {
      watch.close();
    }
  });

  it('a failing heartbeat drops the stream and reconnects', async () => {
    const engine = fakeEngine();
    let resyncs = 0;
    let healthy = false;
    const watch = watchEvents({
      docker: engine.docker,
      filters: {},
      onEvent: () => undefined,
      resync: () => {
        resyncs++;
        return Promise.resolve();
      },
      onDown: () => undefined,
      log: pino({ level: 'silent' }),
      resyncMs: 60_000,
      heartbeat: () => (healthy ? Promise.resolve() : Promise.reject(new Error('no engine'))),
      heartbeatMs: 20,
      initialBackoffMs: 1,
    });
    try {
      await until(
        'dropped and reconnected',
        () => Promise.resolve(resyncs),
        (n) => n >= 2,
        5_000,
      );
      healthy = true;
      expect(engine.streams[0]?.destroyed).toBe(true);
    } finally {
      watch.close();
    }
  });
});

describe('Refresher', () => {
  it('runs one read per job at a time and at most one more, the latest asked for', async () => {
    const refresher = new Refresher();
    const ran: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    refresher.run('a', async () => {
      ran.push('first');
      await gate;
    });
    refresher.run('a', () => Promise.resolve(void ran.push('second')));
    refresher.run('a', () => Promise.resolve(void ran.push('third')));
    refresher.run('b', () => Promise.resolve(void ran.push('other job')));
    expect(ran).toEqual(['first', 'other job']);
    release();
    await until(
      're-run',
      () => Promise.resolve(ran.length),
      (n) => n === 3,
      5_000,
    );
    expect(ran).toEqual(['first', 'other job', 'third']);
  });
});
