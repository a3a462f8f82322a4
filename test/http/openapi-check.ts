// Checks a real response against /openapi.json: the status is documented for that path and method
// (or falls to `default`), the Content-Type is the documented one, and a JSON body validates
// against the documented schema (ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses). So a serializer
// that drifts from the document fails the HTTP test that made the request.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

type Json = Record<string, unknown>;

export interface OpenApiDoc {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
}

/** The app's own document: GET /openapi.json. */
export async function fetchDoc(app: {
  request: (path: string) => Response | Promise<Response>;
}): Promise<OpenApiDoc> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDoc;
}

/** The document's path template a concrete path falls under; literal segments win over `{x}`. */
export function templateOf(doc: OpenApiDoc, path: string): string | undefined {
  const segments = path.split('/');
  const candidates = Object.keys(doc.paths).filter((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, i) => /^\{\w+\}$/.test(part) || part === segments[i])
    );
  });
  const params = (t: string) => (t.match(/\{/g) ?? []).length;
  return candidates.sort((a, b) => params(a) - params(b))[0];
}

const validators = new WeakMap<OpenApiDoc, Map<string, ValidateFunction>>();

function validatorFor(doc: OpenApiDoc, key: string, schema: Json): ValidateFunction {
  let byKey = validators.get(doc);
  if (byKey === undefined) validators.set(doc, (byKey = new Map<string, ValidateFunction>()));
  let validate = byKey.get(key);
  if (validate === undefined) {
    // The schema's refs point at #/components/schemas/…: compile it with those beside it.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    validate = ajv.compile({ ...schema, components: doc.components });
    byKey.set(key, validate);
  }
  return validate;
}

const mediaType = (type: string) => type.split(';')[0]?.trim().toLowerCase() ?? '';

/**
 * Asserts `res` is what the document says `method path` answers. Reads the body of a clone only
 * for JSON (a stream's body is left alone). Returns the parsed JSON body, if any.
 */
export async function expectDocumented(
  doc: OpenApiDoc,
  method: string,
  path: string,
  res: Response,
): Promise<unknown> {
  const where = `${method} ${path} → ${res.status}`;
  const template = templateOf(doc, path.split('?')[0] ?? path);
  expect(template, `${where}: no path of the document matches`).toBeDefined();
  const item = doc.paths[template ?? ''] ?? {};
  const operation = item[method.toLowerCase()];
  if (operation === undefined) return expectNotAllowed(doc, item, where, res);
  const responses = (operation?.responses ?? {}) as Record<string, Json>;
  const documented = responses[String(res.status)] ?? responses.default;
  expect(documented, `${where}: status not documented`).toBeDefined();
  const content = documented?.content as Record<string, Json> | undefined;
  const actual = res.headers.get('content-type');
  if (content === undefined || method === 'HEAD') return undefined;
  expect(actual, `${where}: no Content-Type`).not.toBeNull();
  const types = Object.keys(content);
  const match =
    types.find((t) => mediaType(t) === mediaType(actual ?? '')) ??
    (types.includes('*/*') ? '*/*' : undefined);
  expect(match, `${where}: Content-Type ${actual} is not one of ${types.join(', ')}`).toBeDefined();
  if (mediaType(actual ?? '') !== 'application/json') return undefined;
  const body: unknown = await res.clone().json();
  const schema = content[match ?? '']?.schema as Json | undefined;
  if (schema === undefined) return body;
  const validate = validatorFor(doc, `${template ?? ''} ${method} ${res.status}`, schema);
  const ok = validate(body);
  const shown = JSON.stringify(body).slice(0, 400);
  expect(ok, `${where}: body ${shown} does not match: ${JSON.stringify(validate.errors)}`).toBe(
    true,
  );
  return body;
}

const METHODS = ['delete', 'get', 'head', 'options', 'post', 'put', 'patch'];

/** A method the path does not document: 405, Allow = the documented methods, the error shape. */
async function expectNotAllowed(
  doc: OpenApiDoc,
  item: Record<string, Json>,
  where: string,
  res: Response,
): Promise<unknown> {
  expect(res.status, `${where}: an undocumented method must be refused`).toBe(405);
  const documented = METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
  expect(res.headers.get('allow'), `${where}: Allow`).toBe(documented.join(', '));
  const body: unknown = await res.clone().json();
  const validate = validatorFor(doc, 'ErrorMessage', { $ref: '#/components/schemas/ErrorMessage' });
  expect(validate(body), `${where}: ${JSON.stringify(body)}`).toBe(true);
  return body;
}
