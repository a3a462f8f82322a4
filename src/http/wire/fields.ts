// The v6 create fields in pman's order and the "missing" texts; shared by request.ts and legacy.ts.
// Its own module so that neither of the two has to import the other's internals (no import loop).

export { FIELD_ORDER } from '../../domain/request-fields.js';
import type { FIELD_ORDER } from '../../domain/request-fields.js';
export type V6Field = (typeof FIELD_ORDER)[number];

/** A JSON-only field (args, entrypoint) is missing. */
export const MISSING_JSON_TEXT = 'Missing required parameter in the JSON body';
/** Any other field is missing: pman's parser looked in the body, the form and the query string. */
export const MISSING_ANY_TEXT =
  'Missing required parameter in the JSON body or the post body or the query string';
