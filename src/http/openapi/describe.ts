// What a route description holds: per method, its summary, query parameters and answers, each
// body named by a zod schema (schemas.ts, or the request's own in body.ts). document.ts turns these
// into OpenAPI 3.1; HEAD, OPTIONS, the 308s, 401 and the error default are added there, for every route.
import type { z } from 'zod';
import type { Method } from '../router.js';

/** What an answer carries: JSON of a schema, plain text, an event stream, an HTML page, nothing. */
export type Content =
  | { kind: 'json'; schema: z.ZodType }
  | { kind: 'text'; mediaType?: string; description?: string }
  | { kind: 'sse'; description: string }
  | { kind: 'html' }
  | { kind: 'static' };

export interface Answer {
  description: string;
  content?: Content;
  headers?: Readonly<Record<string, string>>;
}

export interface Parameter {
  description: string;
  schema: z.ZodType;
  required?: boolean;
  /** Repeatable (?jid=a&jid=b). */
  repeated?: boolean;
}

export interface Operation {
  summary: string;
  description?: string;
  tags: readonly string[];
  query?: Readonly<Record<string, Parameter>>;
  headers?: Readonly<Record<string, Parameter>>;
  /** The request body's JSON schema (already generated) and what it is. */
  body?: { description: string; jsonSchema: Record<string, unknown> };
  answers: Readonly<Record<number, Answer>>;
}

/** One entry per route of the table, keyed by its Hono path pattern (routes.ts). */
export interface RouteDoc {
  /** Path segments other than `:jid` (described once, in document.ts). */
  pathParams?: Readonly<Record<string, Parameter>>;
  methods: Partial<Record<Method, Operation>>;
}

export const json = (schema: z.ZodType): Content => ({ kind: 'json', schema });
