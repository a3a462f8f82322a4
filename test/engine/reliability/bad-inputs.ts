// The bad-input corpus: hand-picked defects per field plus fast-check-generated bodies, each a
// request that must be answered with a 4xx and a JSON {"message": ...}, and must create nothing.
import fc from 'fast-check';

export interface BadRequest {
  /** What is wrong, for the failure message. */
  name: string;
  method: string;
  /** Path and query, e.g. /api/v1/ */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The exact status when the contract fixes it (413, 415), else any 4xx. */
  status?: number;
  /**
   * Only a bad input on Docker: Swarm and Kubernetes accept the job and fail it later (api.md §9.2).
   */
  dockerOnly?: boolean;
}

/**
 * Cases that still fail because the fix of an issue 10 item has not landed: case name → item.
 * The runs skip them and print them, so a fix that lands shows up as a case to remove from here.
 */
/** Corpus cases still failing, by name → the issue 10 item that fixes them (none now). */
export const KNOWN_FAILING: ReadonlyMap<string, number> = new Map<string, number>();

/** The corpus without the known failures, and those listed apart (for the runs to print). */
export function runnable(cases: readonly BadRequest[]): {
  run: BadRequest[];
  skipped: string[];
} {
  const skipped = cases
    .filter((c) => KNOWN_FAILING.has(c.name))
    .map((c) => `${c.name} (issue 10, item ${KNOWN_FAILING.get(c.name) ?? '?'})`);
  return { run: cases.filter((c) => !KNOWN_FAILING.has(c.name)), skipped };
}

/** Checks one answer: the status, a JSON body of exactly {"message": …}; else what is wrong. */
export function judge(
  c: BadRequest,
  status: number,
  contentType: string | undefined,
  text: string,
): string | undefined {
  const where = `${c.name}: ${status} ${text.slice(0, 160)}`;
  if (c.status !== undefined ? status !== c.status : status < 400 || status > 499) return where;
  if (contentType !== 'application/json') return `${where} (content-type ${contentType})`;
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null || !('message' in body)) return where;
    const keys = Object.keys(body);
    if (keys.length !== 1) return `${where} (keys ${keys.join(',')})`;
  } catch {
    return `${where} (not JSON)`;
  }
  return undefined;
}

export interface CorpusContext {
  /** Prefix of every jid the corpus uses, so leftovers can be found by name. */
  jidPrefix: string;
  image: string;
  /** An image reference that does not exist (and whose pull fails fast on loopback). */
  missingImage: string;
  /** Existing directories under storeBase. */
  inputDir: string;
  outputDir: string;
  /** A symlink under storeBase whose target is outside it. */
  escapeLink: string;
  /** A symlink under storeBase that points at itself (ELOOP when followed). */
  loopLink: string;
  /** Whether the backend runs more than one worker (docker and swarm do not). */
  singleWorker: boolean;
  /**
   * Whether cpu, memory and GPUs are bounded by one host's size (docker, swarm); on Kubernetes a
   * Job larger than any node is accepted and stays pending, as pman did.
   */
  hostResources: boolean;
  /** The port the server listens on: a Host header naming it with a foreign name is refused. */
  port?: number;
}

/** Just under MAX_BODY_BYTES with the rest of a valid body: one field a megabyte long. */
const MEGA = 1_000_000;

type Body = Record<string, unknown>;
const JSON_TYPE = { 'content-type': 'application/json' };

/** A body that the server would accept: every case below breaks exactly one thing in it. */
export function validBody(ctx: CorpusContext, jid: string): Body {
  return {
    jid,
    args: ['--flag', 'value'],
    args_path_flags: [],
    auid: 'cube',
    number_of_workers: 1,
    cpu_limit: 1000,
    memory_limit: 200,
    gpu_limit: 0,
    image: ctx.image,
    entrypoint: ['/bin/sh', '-c', 'true'],
    type: 'fs',
    env: ['A=b'],
    input_dir: ctx.inputDir,
    output_dir: ctx.outputDir,
  };
}

const REQUIRED = [
  'jid',
  'args',
  'auid',
  'number_of_workers',
  'cpu_limit',
  'memory_limit',
  'gpu_limit',
  'image',
  'entrypoint',
  'type',
  'input_dir',
  'output_dir',
] as const;

/** Values that are wrong for a field whatever else the body holds. */
function wrongValues(ctx: CorpusContext): Record<string, readonly unknown[]> {
  const huge = 'x'.repeat(200_000);
  const control = 'a\u0000b\u0007c\u001bd';
  const lists = [
    'a string',
    42,
    true,
    { a: 1 },
    [1, 2],
    [null],
    ['ok', { nested: true }],
    [['nested']],
  ];
  const ints = [
    'abc',
    '1.5',
    '1Gi',
    '',
    '   ',
    '1__0',
    '0x10',
    '１２',
    [],
    {},
    [1],
    -1,
    0.5,
    -1e300,
    1e300,
    2 ** 60,
    '99999999999999999999999',
    -(2 ** 60),
  ];
  const paths = [
    '',
    '/',
    '//',
    '..',
    '../etc',
    '../../../../etc/passwd',
    `${ctx.inputDir}/../..`,
    `${ctx.inputDir}/./x`,
    'a//b',
    'a\\..\\b',
    'a\u0000b',
    `${ctx.escapeLink}`,
    `${ctx.escapeLink}/sub`,
    42,
    true,
    [ctx.inputDir],
    { path: ctx.inputDir },
  ];
  return {
    jid: [
      '',
      ' ',
      'a/b',
      'a b',
      `${ctx.jidPrefix} spaced`,
      `${ctx.jidPrefix}/slash`,
      `${ctx.jidPrefix}-é`,
      `${ctx.jidPrefix}-✓`,
      `${ctx.jidPrefix}-\u{1f600}`,
      `${ctx.jidPrefix}${control}`,
      `${ctx.jidPrefix}\n`,
      `${ctx.jidPrefix}-${'j'.repeat(100)}`,
      `${ctx.jidPrefix}-${huge}`,
      '..',
      '../etc',
      '-leading-dash',
      '.hidden',
      'jobs',
      '%2F',
      // No booleans or fractions here: they may be coerced into a name the engine accepts.
      [],
      { jid: 'x' },
      ['x'],
    ],
    args: lists,
    args_path_flags: ['--dir', 7, { a: 1 }, [7], [null]],
    number_of_workers: [...ints, 0, ...(ctx.singleWorker ? [2, 64] : [])],
    cpu_limit: [...ints, 0, ...(ctx.hostResources ? [10_000_000] : [])],
    memory_limit: [...ints, 0, ...(ctx.hostResources ? [2 ** 40] : [])],
    // 0.5 truncates to 0, a valid gpu_limit.
    // A million GPUs on Docker is no longer a 400: the engine refuses it at the start, which
    // runs after the 201 since issue 11 (reliability.test.ts checks it ends finishedWithError).
    gpu_limit: ints.filter((v) => v !== 0.5),
    image: [
      '',
      ' ',
      'has space',
      'tab\there',
      `line\nbreak`,
      control,
      42,
      true,
      [ctx.image],
      { image: ctx.image },
    ],
    entrypoint: [[], 'sh -c true', 42, { cmd: 'sh' }, [1], [null], ['sh', 2]],
    type: ['', 'xx', 'DS', 'fs ', 42, true, ['fs'], { type: 'fs' }, control, huge],
    env: [
      'A=b',
      42,
      { A: 'b' },
      ['no-equals'],
      ['=empty-key'],
      [1],
      [null],
      [['A=b']],
      ['A=b', 'broken'],
      // Giant lists with one bad element at the end: nothing may be created for them.
      [...Array.from({ length: 20_000 }, (_, i) => `K${i}=v`), 'bad'],
      [...Array.from({ length: 50_000 }, () => 'X=y'), 7],
    ],
    input_dir: [...paths, `missing-${ctx.jidPrefix}`],
    output_dir: paths,
  };
}

function post(
  name: string,
  body: string | Buffer,
  headers: Record<string, string> = JSON_TYPE,
): BadRequest {
  return { name, method: 'POST', path: '/api/v1/', headers, body };
}

/** The deterministic part of the corpus. */
function handPicked(ctx: CorpusContext): BadRequest[] {
  const cases: BadRequest[] = [];
  let n = 0;
  const jid = (): string => `${ctx.jidPrefix}-${++n}`;
  const bodyWith = (patch: Body, drop: readonly string[] = []): string => {
    const body = { ...validBody(ctx, jid()), ...patch };
    for (const key of drop) delete body[key];
    return JSON.stringify(body);
  };

  for (const [field, values] of Object.entries(wrongValues(ctx))) {
    values.forEach((value, i) => {
      const shown = JSON.stringify(value) ?? 'undefined';
      cases.push(post(`${field} = ${shown.slice(0, 40)} (#${i})`, bodyWith({ [field]: value })));
    });
  }
  // A missing image is a 201 and a failed job later on every backend (issue 11 for Docker; api.md
  // §9.2 for Swarm), not a 400: reliability.test.ts checks that outcome.
  for (const image of [
    `${ctx.image}${'x'.repeat(200_000)}`,
    'UPPER/Case:Bad',
    '::::',
    'é',
    'a\u007fb',
  ]) {
    cases.push(post(`image reference ${JSON.stringify(image).slice(0, 40)}`, bodyWith({ image })));
  }
  for (const field of REQUIRED) {
    cases.push(post(`missing ${field}`, bodyWith({}, [field])));
    cases.push(post(`${field} = null`, bodyWith({ [field]: null })));
  }
  cases.push(
    post(
      'all four numbers null',
      bodyWith({
        number_of_workers: null,
        cpu_limit: null,
        memory_limit: null,
        gpu_limit: null,
      }),
    ),
  );

  // Issue 10, items 3 and 10: unbounded fields, file-system errors, characters that change a bind.
  const unbounded: [string, unknown][] = [
    ['image', 'i'.repeat(MEGA)],
    ['entrypoint', ['/bin/sh', '-c', 'x'.repeat(MEGA)]],
    ['entrypoint', Array.from({ length: 150_000 }, () => 'e')],
    ['args', ['a'.repeat(MEGA)]],
    ['args', Array.from({ length: 150_000 }, () => 'a')],
    ['env', [`A=${'v'.repeat(MEGA)}`]],
    ['env', [`${'K'.repeat(MEGA)}=v`]],
    ['auid', 'u'.repeat(MEGA)],
    ['auid', { id: 'cube' }],
    ['auid', ['cube']],
    ['auid', true],
    ['auid', false],
    ['input_dir', 'd'.repeat(10_000)],
    ['output_dir', 'd'.repeat(10_000)],
    ['output_dir', `${ctx.outputDir}/${'n/'.repeat(2_700)}x`],
    ['input_dir', ctx.loopLink],
    ['input_dir', `${ctx.loopLink}/x`],
    ['output_dir', `${ctx.loopLink}/x`],
    ['input_dir', `${ctx.inputDir}:/etc`],
    ['output_dir', `${ctx.outputDir}:rw`],
    ['output_dir', 'new:dir'],
  ];
  for (const [field, value] of unbounded) {
    const shown = (JSON.stringify(value) ?? '').slice(0, 30);
    const size = typeof value === 'string' ? value.length : JSON.stringify(value).length;
    cases.push(post(`${field} = ${shown} (${size} chars)`, bodyWith({ [field]: value })));
  }
  // The old Swarm rule backtracked for hours on 40 characters ending in '!' (item 3).
  const hang = `${'a'.repeat(40)}!`;
  cases.push(post('jid of 40 letters ending in "!"', bodyWith({ jid: hang })));
  cases.push(post('jid of 62 letters ending in "!"', bodyWith({ jid: `${'a'.repeat(62)}!` })));

  // Issue 10, item 8: with auth off only loopback (and ALLOWED_HOSTS) names are served. A valid
  // body under a foreign Host must create nothing.
  const port = ctx.port === undefined ? '' : `:${ctx.port}`;
  for (const host of [
    `evil.example${port}`,
    'evil.example',
    `rebind.attacker.test${port}`,
    '10.0.0.1',
    'bad host',
    '127.0.0.1/x',
    'localhost@evil.example',
  ]) {
    cases.push({
      ...post(`valid body under Host ${JSON.stringify(host)}`, bodyWith({}), {
        ...JSON_TYPE,
        host,
      }),
    });
    cases.push({
      name: `job list under Host ${JSON.stringify(host)}`,
      method: 'GET',
      path: '/api/v1/jobs/',
      headers: { host },
    });
  }
  cases.push({
    name: 'redirect under a foreign Host (no slash)',
    method: 'GET',
    path: '/api/v1',
    headers: { host: `evil.example${port}` },
  });

  // Body format (§5.1).
  const good = bodyWith({});
  for (const type of [
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'json',
    '',
  ]) {
    cases.push({ ...post(`content-type "${type}"`, good, { 'content-type': type }), status: 415 });
  }
  cases.push({ ...post('no content-type', good, {}), status: 415 });
  const oversize = JSON.stringify({
    ...validBody(ctx, jid()),
    args: ['y'.repeat(1024 * 1024 + 16)],
  });
  cases.push({ ...post('body just over 1 MiB', oversize), status: 413 });
  cases.push({ ...post('5 MiB body', Buffer.alloc(5 * 1024 * 1024, 0x20)), status: 413 });
  cases.push({
    ...post(
      'giant env list over the size limit',
      JSON.stringify({
        ...validBody(ctx, jid()),
        env: Array.from({ length: 200_000 }, (_, i) => `KEY_${i}=value`),
      }),
    ),
    status: 413,
  });
  for (const text of [
    '',
    ' ',
    '{',
    '}',
    '{"jid":',
    good.slice(0, -1),
    `${good},`,
    `${good}${good}`,
    "{'jid': 'x'}",
    '{"jid": "x",}',
    '{jid: "x"}',
    'NaN',
    'undefined',
    '\u0000',
    '\ufeff{}',
    '[',
    '"unterminated',
    '{"a": 1e99999999}x',
    '{"a": tru}',
  ]) {
    cases.push(post(`invalid JSON ${JSON.stringify(text).slice(0, 30)}`, text));
  }
  for (const text of ['[]', '[{}]', 'null', '1', '"string"', 'true', '{}', '{"jid": null}']) {
    cases.push(post(`JSON ${text}`, text));
  }
  cases.push(post('invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])));

  // Job routes with jids no backend job can have: 404, never a backend fault.
  for (const bad of [
    `${'a'.repeat(40)}!`,
    'a%20b',
    '..%2F..%2Fetc',
    '%00',
    `${ctx.jidPrefix}-%E2%9C%93`,
    'x'.repeat(5000),
  ]) {
    for (const method of ['GET', 'DELETE']) {
      cases.push({
        name: `${method} /api/v1/${bad.slice(0, 20)}/`,
        method,
        path: `/api/v1/${bad}/`,
        headers: {},
      });
    }
    cases.push({
      name: `GET logs of ${bad.slice(0, 20)}`,
      method: 'GET',
      path: `/api/v1/${bad}/logs/`,
      headers: {},
    });
  }
  cases.push({
    name: 'list with a bad status filter',
    method: 'GET',
    path: '/api/v1/jobs/?status=bogus',
    headers: {},
  });
  cases.push({
    name: 'PUT on the job collection',
    method: 'PUT',
    path: '/api/v1/',
    headers: JSON_TYPE,
    body: good,
    status: 405,
  });
  cases.push({
    name: 'POST on a job',
    method: 'POST',
    path: `/api/v1/${ctx.jidPrefix}-x/`,
    headers: JSON_TYPE,
    body: good,
    status: 405,
  });
  return cases;
}

/** Generated bodies: random JSON and random text, none of which can be a complete valid request. */
function generated(ctx: CorpusContext, seed: number): BadRequest[] {
  const cases: BadRequest[] = [];
  const anyJson = fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed, numRuns: 40 });
  anyJson.forEach((v, i) => cases.push(post(`generated JSON #${i}`, JSON.stringify(v))));
  const text = fc.sample(fc.string({ unit: 'binary', maxLength: 200 }), { seed, numRuns: 30 });
  text.forEach((t, i) => cases.push(post(`generated text #${i}`, t)));
  // A valid body with one field replaced by a random value that the field can never accept.
  const field = fc.constantFrom(...REQUIRED.filter((f) => f !== 'auid' && f !== 'jid'));
  const junk = fc.oneof(
    fc.constant(null),
    fc.dictionary(fc.string(), fc.integer()),
    fc.array(fc.integer(), { minLength: 1 }),
  );
  const patched = fc.sample(fc.tuple(field, junk), { seed, numRuns: 40 });
  patched.forEach(([f, v], i) =>
    cases.push(
      post(
        `generated ${f} = ${JSON.stringify(v).slice(0, 30)} #${i}`,
        JSON.stringify({ ...validBody(ctx, `${ctx.jidPrefix}-g${i}`), [f]: v }),
      ),
    ),
  );
  return cases;
}

/** The whole corpus; the same seed gives the same cases. */
export function badInputCorpus(ctx: CorpusContext, seed = 20261123): BadRequest[] {
  return [...handPicked(ctx), ...generated(ctx, seed)];
}
