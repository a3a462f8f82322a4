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
  /** Only a bad input on Docker: Swarm accepts the service and fails the job later (api.md §9.2). */
  dockerOnly?: boolean;
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
  /** Whether the backend runs more than one worker (docker and swarm do not). */
  singleWorker: boolean;
}

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
    cpu_limit: [...ints, 0, 10_000_000],
    memory_limit: [...ints, 0, 2 ** 40],
    // 0.5 truncates to 0, a valid gpu_limit.
    gpu_limit: [...ints.filter((v) => v !== 0.5), 1_000_000],
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
  // Swarm answers a missing image with 201 and a failed job later (api.md §9.2), not a 400.
  cases.push({
    ...post('image that does not exist', bodyWith({ image: ctx.missingImage })),
    dockerOnly: true,
  });
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
