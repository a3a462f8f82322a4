// The client side of the `pman` binary, pure parts: what it prints (src/client/format.ts), the
// event-stream parser (sse.ts) and the command line (client commands beside the server's flags).
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli.js';
import {
  age,
  eventLine,
  formatElapsed,
  jobDetail,
  jobsTable,
  messageText,
  table,
  waitLine,
} from '../../src/client/format.js';
import { parseSse } from '../../src/client/sse.js';
import type { SseEvent } from '../../src/client/sse.js';

const NOW = new Date('2026-12-05T18:00:00Z');

async function events(...chunks: string[]): Promise<SseEvent[]> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  const out: SseEvent[] = [];
  async function* source(): AsyncIterable<Uint8Array> {
    for (const b of bytes) yield await Promise.resolve(b);
  }
  for await (const e of parseSse(source())) out.push(e);
  return out;
}

describe('format', () => {
  it("messageText: a string as it is, pman's field-validation object as field: text", () => {
    expect(messageText('job "x" not found')).toBe('job "x" not found');
    expect(messageText({ cpu_limit: 'must be a number', jid: 'missing' })).toBe(
      'cpu_limit: must be a number; jid: missing',
    );
    expect(messageText(42)).toBe('42');
  });

  it('table: columns padded by the widest cell (characters, not bytes), last column not padded', () => {
    expect(
      table(
        ['A', 'B', 'C'],
        [
          ['héllo', 'x', 'last'],
          ['b', 'longer', ''],
        ],
      ),
    ).toBe('A      B       C\nhéllo  x       last\nb      longer\n');
  });

  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
    [(3 * 24 + 4) * 3_600_000, '3d04h'],
    [-5000, '0s'],
  ])('formatElapsed(%i) = %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it('age: the time since a timestamp; empty when there is none or it is not a time', () => {
    expect(age('2026-12-05T17:58:30Z', NOW)).toBe('1m30s');
    expect(age(undefined, NOW)).toBe('');
    expect(age('yesterday', NOW)).toBe('');
  });

  it('jobsTable: header and one row per job; "no jobs" for none', () => {
    const text = jobsTable(
      [
        { jid: 'a', status: 'started', message: 'running', timestamp: '2026-12-05T17:59:55Z' },
        { jid: 'job-bb', status: 'finishedWithError', message: 'exited with code 3' },
      ],
      NOW,
    );
    expect(text).toBe(
      'JID     STATUS             AGE  MESSAGE\n' +
        'a       started            5s   running\n' +
        'job-bb  finishedWithError       exited with code 3\n',
    );
    expect(jobsTable([], NOW)).toBe('no jobs\n');
  });

  it('jobDetail: the fields present, then the log after a blank line', () => {
    expect(
      jobDetail({
        jid: 'a',
        status: 'started',
        message: 'running',
        image: 'img',
        logs: 'one\ntwo',
      }),
    ).toBe('jid:       a\nstatus:    started\nmessage:   running\nimage:     img\n\none\ntwo\n');
    expect(jobDetail({ jid: 'a', status: 'notstarted', logs: '' })).toBe(
      'jid:       a\nstatus:    notstarted\n',
    );
  });

  it('jobDetail: a service job shows its endpoint once it has one', () => {
    expect(
      jobDetail({ jid: 's', status: 'started', endpoint: 'http://127.0.0.1:49153', logs: '' }),
    ).toBe('jid:       s\nstatus:    started\nendpoint:  http://127.0.0.1:49153\n');
    expect(jobDetail({ jid: 's', status: 'notstarted', endpoint: null })).toBe(
      'jid:       s\nstatus:    notstarted\n',
    );
  });

  it('waitLine and eventLine', () => {
    expect(waitLine('a', 'started', 'running', 65_000)).toBe('a  started (running)  1m05s');
    expect(waitLine('a', 'waiting', undefined, 0)).toBe('a  waiting  0s');
    expect(
      eventLine({
        seq: 3,
        jid: 'a',
        run: 2,
        status: 'finishedWithError',
        message: 'exited with code 3',
        timestamp: '2026-12-05T17:59:55.000Z',
      }),
    ).toBe('2026-12-05T17:59:55.000Z  a run 2  finishedWithError  exited with code 3');
    expect(eventLine({ jid: 'a', status: 'started' })).toBe('a  started');
  });
});

describe('parseSse', () => {
  it('events with id, event and data; comments and data-less blocks skipped', async () => {
    expect(
      await events(
        ': keep-alive\n\nid: 7\nevent: status\ndata: {"a":1}\n\nevent: end\ndata: x\ndata: y\n\n',
      ),
    ).toEqual([
      { event: 'status', data: '{"a":1}', id: '7' },
      { event: 'end', data: 'x\ny' },
    ]);
  });

  it('the same events however the bytes are split, CRLF across chunks and a multi-byte character included', async () => {
    const text = 'id: 1\r\nevent: log\r\ndata: héllo ✓\r\n\r\ndata: last\r\n\r\n';
    const whole = await events(text);
    expect(whole).toEqual([
      { event: 'log', data: 'héllo ✓', id: '1' },
      { event: 'message', data: 'last' },
    ]);
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const chunks = [bytes.slice(0, cut), bytes.slice(cut)];
      const out: SseEvent[] = [];
      async function* source(): AsyncIterable<Uint8Array> {
        for (const c of chunks) yield await Promise.resolve(c);
      }
      for await (const e of parseSse(source())) out.push(e);
      expect(out).toEqual(whole);
    }
  });

  it('a last event without its blank line still counts once the stream ends', async () => {
    expect(await events('data: tail')).toEqual([{ event: 'message', data: 'tail' }]);
  });
});

describe('the command line', () => {
  it('the server start stays the default command, with its flags', async () => {
    expect(await parseCli(['--ip', '0.0.0.0', '--port', '5011'], '1.0.0')).toEqual({
      kind: 'serve',
      overrides: { ip: '0.0.0.0', port: 5011 },
    });
    expect(await parseCli([], '1.0.0')).toEqual({ kind: 'serve', overrides: {} });
  });

  it.each([
    [['submit', 'job.json'], { name: 'submit', json: false, file: 'job.json' }],
    [['submit', '-', '--json'], { name: 'submit', json: true, file: '-' }],
    [['status', 'j1'], { name: 'status', json: false, jid: 'j1' }],
    [['jobs', '--status', 'started'], { name: 'jobs', json: false, status: 'started' }],
    [
      ['jobs', '--label', 'a=b', '--label', 'c=d', '--json'],
      { name: 'jobs', json: true, label: ['a=b', 'c=d'] },
    ],
    [['logs', '-f', 'j1'], { name: 'logs', json: false, jid: 'j1', follow: true }],
    [
      ['logs', 'j1', '--tail', '5'],
      { name: 'logs', json: false, jid: 'j1', follow: false, tail: 5 },
    ],
    [['wait', 'j1'], { name: 'wait', json: false, jid: 'j1' }],
    [['cancel', 'j1', '--json'], { name: 'cancel', json: true, jid: 'j1' }],
    [['delete', 'j1'], { name: 'delete', json: false, jid: 'j1' }],
    [
      ['events', '--jid', 'a', '--jid', 'b', '--status', 'started', '--since', '10'],
      { name: 'events', json: false, jid: ['a', 'b'], status: ['started'], since: '10' },
    ],
  ])('pman %j', async (argv, command) => {
    expect(await parseCli(argv, '1.0.0')).toEqual({ kind: 'client', command });
  });

  it('usage errors: a missing jid, a bad --tail, an unknown option', async () => {
    expect(await parseCli(['status'], '1.0.0')).toMatchObject({ kind: 'fail' });
    expect(await parseCli(['logs', 'j1', '--tail', '-1'], '1.0.0')).toEqual({
      kind: 'fail',
      message: '--tail: must be a whole number ≥ 0',
    });
    expect(await parseCli(['jobs', '--colour'], '1.0.0')).toMatchObject({ kind: 'fail' });
  });

  it('the synopsis lists the client commands', async () => {
    const action = await parseCli(['-y'], '1.0.0');
    expect(action.kind === 'print' && action.text).toMatch(/pman wait <jid>/);
  });
});
