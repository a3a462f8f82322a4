// The create body's JSON Schema, generated field by field from the zod schemas request.ts
// validates with (no second copy). pman's fields are transforms (int() coercion, path rules):
// their input side is described where zod can say it, else the validated output side.
import { z } from 'zod';

export interface BodyField {
  name: string;
  schema: z.ZodType;
  required: boolean;
  /** 'default': also read from the query string when absent from the body (pman's parser). */
  location: 'json' | 'default';
  /** What the schema cannot say (a rule checked in a transform). */
  note?: string;
}

type JsonSchema = Record<string, unknown>;

function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out: JsonSchema = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    // The request's schemas are their own; never hoist them into the response components.
    reused: 'inline',
  });
  delete out.$schema;
  return out;
}

const COERCED =
  'Coerced as pman did (Python int()): a number string ("2000"), a float (truncated) or a boolean is accepted too; the schema shows the value after coercion.';

/** One field: its input side, or (a transform from anything, as pman's int()) its output side. */
export function fieldJsonSchema(field: BodyField): JsonSchema {
  let schema = toJson(field.schema, 'input');
  const notes: string[] = [];
  if (Object.keys(schema).length === 0) {
    schema = toJson(field.schema, 'output');
    if (Object.keys(schema).length > 0) notes.push(COERCED);
  }
  if (field.note !== undefined) notes.push(field.note);
  if (field.location === 'default') notes.push('Also read from the query string when absent here.');
  if (typeof schema.description === 'string') notes.unshift(schema.description);
  return notes.length === 0 ? schema : { ...schema, description: notes.join(' ') };
}

/** The body: an object of the fields in order; unknown fields are ignored (pman). */
export function bodyJsonSchema(fields: readonly BodyField[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) properties[field.name] = fieldJsonSchema(field);
  return {
    type: 'object',
    properties,
    required: fields.filter((f) => f.required).map((f) => f.name),
    additionalProperties: true,
  };
}
