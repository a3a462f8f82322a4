// buildOpenApi: the route table + its descriptions (route-docs.ts) → an OpenAPI 3.1 document.
// Everything that holds for every route is added here, mechanically from the table: HEAD wherever
// GET is, OPTIONS (200 + Allow), the 308 of the slash-less path (pman's quirk), 401 on the routes
// behind the token when auth is on, and the `{"message": …}` error shape as the default answer.
import { z } from 'zod';
import { allowedMethods } from '../router.js';
import type { Route } from '../router.js';
import type { Answer, Content, Operation, Parameter, RouteDoc } from './describe.js';
import { ErrorMessage } from './schemas.js';

type Json = Record<string, unknown>;

export interface DocumentOptions {
  version: string;
  /** Token authentication on: the routes behind it get `security` and a 401. */
  auth: boolean;
  docs: Readonly<Record<string, RouteDoc>>;
}

const SCHEMA_REF = '#/components/schemas/';

const RULES = `The wire contract of pman 6.3.1 (the ChRIS process manager), kept byte for byte, plus pman-ts's additions.

- A known path without its final slash (or with a doubled slash) answers **308** with an absolute \`Location\` and a short HTML page, for every method (listed below as the slash-less paths).
- A wrong method on a known path answers **405** \`{"message": "The method is not allowed for the requested URL."}\` with \`Allow\`; OPTIONS answers 200 with \`Allow\`.
- An unknown path answers **404** JSON. Every error body is exactly \`{"message": <string>}\`, except field validation: \`{"message": {"<field>": "<text>", …}}\`.
- JSON is written as Python's json.dumps (\`", "\` and \`": "\` separators, non-ASCII escaped, one final newline); \`Content-Type: application/json\` without charset.
- A \`Host\` that is not loopback or in ALLOWED_HOSTS is a 400 while token authentication is off (DNS rebinding).`;

/** The groups of the reference, in this order (route-docs.ts tags each operation). */
const TAGS = [
  {
    name: 'jobs',
    description: "pman's routes (what pfcon calls) and the job list, logs and cancel.",
  },
  { name: 'events', description: 'Server-sent events: status changes and live logs.' },
  { name: 'history', description: 'Every run, also after DELETE, and its captured logs.' },
  { name: 'operations', description: 'Probes, metrics, the queue, capacity and webhooks.' },
  {
    name: 'docs and dashboard',
    description: 'This document, its reference page and the dashboard.',
  },
  { name: 'methods', description: 'OPTIONS of every route: 200 with `Allow`.' },
  {
    name: 'redirects (pman)',
    description: "Every path without its final slash: 308 to the one with it (pman's quirk).",
  },
];

/** Collects the zod schemas with an id into components, and returns a schema's JSON with refs. */
class Schemas {
  readonly components: Record<string, Json> = {};

  json(schema: z.ZodType, io: 'input' | 'output' = 'output'): Json {
    const raw = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' });
    // One document for all: each schema's local $defs become the document's components.
    const text = JSON.stringify(raw).replaceAll('"#/$defs/', `"${SCHEMA_REF}`);
    const { $schema: _dialect, $defs, ...rest } = JSON.parse(text) as Json & { $defs?: Json };
    for (const [id, def] of Object.entries($defs ?? {})) this.components[id] = def as Json;
    return rest;
  }
}

function content(c: Content | undefined, schemas: Schemas): Json | undefined {
  if (c === undefined) return undefined;
  const text = (description?: string) => ({
    schema: { type: 'string', ...(description !== undefined && { description }) },
  });
  switch (c.kind) {
    case 'json':
      return { 'application/json': { schema: schemas.json(c.schema) } };
    case 'text':
      return { [c.mediaType ?? 'text/plain; charset=utf-8']: text(c.description) };
    case 'sse':
      return { 'text/event-stream; charset=utf-8': text(c.description) };
    case 'html':
      return { 'text/html; charset=utf-8': text() };
    case 'static':
      return { '*/*': text('The file, with its own Content-Type.') };
  }
}

function answer(a: Answer, schemas: Schemas, withBody = true): Json {
  const body = withBody ? content(a.content, schemas) : undefined;
  return {
    description: a.description,
    ...(a.headers !== undefined && {
      headers: Object.fromEntries(
        Object.entries(a.headers).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      ),
    }),
    ...(body !== undefined && { content: body }),
  };
}

function parameter(name: string, where: string, p: Parameter, schemas: Schemas): Json {
  const one = schemas.json(p.schema, 'input');
  return {
    name,
    in: where,
    description: p.description,
    required: where === 'path' || p.required === true,
    schema: p.repeated === true ? { type: 'array', items: one } : one,
    ...(p.repeated === true && { style: 'form', explode: true }),
  };
}

const JID: Parameter = {
  description: 'The job id: one path segment, percent-decoded, leading `/` stripped.',
  schema: z.string().min(1),
};

/** `/api/v1/:jid/` → `/api/v1/{jid}/` and the names of its path parameters. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params = [...path.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '');
  return { path: path.replace(/:(\w+)/g, '{$1}'), params };
}

function operation(
  route: Route,
  method: string,
  op: Operation,
  options: DocumentOptions,
  schemas: Schemas,
  head = false,
): Json {
  const guarded = options.auth && route.open !== true;
  const responses: Json = {};
  for (const [status, a] of Object.entries(op.answers))
    responses[status] = answer(a, schemas, !head);
  if (guarded) {
    responses['401'] = answer(
      {
        description:
          'Token authentication is on and the bearer token is missing, malformed, invalid or expired (`WWW-Authenticate: Bearer`).',
        content: { kind: 'json', schema: ErrorMessage },
        headers: { 'WWW-Authenticate': '`Bearer`.' },
      },
      schemas,
      !head,
    );
  }
  responses.default = answer(
    {
      description: 'Any other error (405 with `Allow`, 404, 500, …): `{"message": <string>}`.',
      content: { kind: 'json', schema: ErrorMessage },
    },
    schemas,
    !head,
  );
  const parameters = [
    ...Object.entries(op.query ?? {}).map(([n, p]) => parameter(n, 'query', p, schemas)),
    ...Object.entries(op.headers ?? {}).map(([n, p]) => parameter(n, 'header', p, schemas)),
  ];
  return {
    operationId: `${method}-${route.name}`,
    summary: head ? `${op.summary} (headers only)` : op.summary,
    ...(op.description !== undefined && { description: op.description }),
    tags: [...op.tags],
    ...(parameters.length > 0 && { parameters }),
    ...(op.body !== undefined && {
      requestBody: {
        description: op.body.description,
        required: true,
        content: { 'application/json': { schema: op.body.jsonSchema } },
      },
    }),
    responses,
    ...(guarded && { security: [{ bearerAuth: [] }] }),
  };
}

function redirectItem(route: Route, methods: readonly string[]): Json {
  const item: Json = {};
  for (const method of methods) {
    item[method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}-${route.name}-redirect`,
      summary: `Redirect to ${route.path}`,
      description:
        "pman's quirk (Werkzeug strict_slashes): 308 to the same URL with the final slash (the query string kept), method and body preserved.",
      tags: ['redirects (pman)'],
      responses: {
        '308': {
          description: 'Permanent redirect to the slash-terminated path.',
          headers: {
            Location: {
              description: 'Absolute URL: scheme, Host, the path with `/`, the query string.',
              schema: { type: 'string' },
            },
          },
          content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } },
        },
      },
    };
  }
  return item;
}

/** The document for a route table. Routes without a description are left out (the test says which). */
export function buildOpenApi(table: readonly Route[], options: DocumentOptions): Json {
  const schemas = new Schemas();
  const paths: Json = {};
  const redirects: Json = {};
  for (const route of table) {
    const doc = options.docs[route.path];
    if (doc === undefined) continue;
    const { path, params } = openApiPath(route.path);
    const item: Json = {};
    const pathParameters = params.map((name) =>
      parameter(name, 'path', name === 'jid' ? JID : (doc.pathParams?.[name] ?? JID), schemas),
    );
    if (pathParameters.length > 0) item.parameters = pathParameters;
    const methods = allowedMethods(route);
    for (const method of methods) {
      const key = method.toLowerCase();
      if (method === 'OPTIONS') {
        item.options = {
          operationId: `options-${route.name}`,
          summary: 'Allowed methods',
          tags: ['methods'],
          responses: {
            '200': {
              description: `Empty body; \`Allow: ${methods.join(', ')}\`.`,
              headers: { Allow: { schema: { type: 'string', const: methods.join(', ') } } },
            },
          },
        };
        continue;
      }
      const described =
        doc.methods[method === 'HEAD' ? 'GET' : (method as keyof RouteDoc['methods'])];
      if (described === undefined) continue;
      item[key] = operation(route, key, described, options, schemas, method === 'HEAD');
    }
    paths[path] = item;
    if (path.length > 1 && path.endsWith('/')) {
      const slashless = path.slice(0, -1);
      redirects[slashless] = {
        ...(pathParameters.length > 0 && { parameters: pathParameters }),
        ...redirectItem(route, methods),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'pman-ts', version: options.version, description: RULES },
    tags: TAGS,
    paths: { ...paths, ...redirects },
    components: {
      schemas: schemas.components,
      ...(options.auth && {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'A static token (TOKEN_PATH) or a JWT (SECRET_KEY, JWT_PUBLIC_KEY_FILE).',
          },
        },
      }),
    },
  };
}
