// Pman-Ignored-Fields (issue 13): unknown top-level fields of a create body stay accepted (pman
// accepted them), and the answer names them, so a client that sent `timeout` instead of
// `timeout_seconds` can see it was ignored.
import { CALLBACK_URL_FIELD } from './callback-url.js';
import { FIELD_ORDER } from './fields.js';
import { JOB_CONTROL_FIELDS } from './job-control.js';
import { PMAN3_FIELDS } from './legacy.js';

export const IGNORED_FIELDS_HEADER = 'Pman-Ignored-Fields';

const KNOWN: ReadonlySet<string> = new Set<string>([
  ...FIELD_ORDER,
  'env',
  CALLBACK_URL_FIELD,
  ...JOB_CONTROL_FIELDS,
  ...PMAN3_FIELDS,
]);

/** The body's fields no version of the create reads, in the order sent. */
export function ignoredFields(body: Record<string, unknown>): string[] {
  return Object.keys(body).filter((key) => !KNOWN.has(key));
}

/** The header naming them (comma-separated), or none. Field names are JSON keys: one with a
 *  blank, a comma, a '%' or a character a header cannot carry is percent-encoded. */
export function ignoredFieldsHeader(body: Record<string, unknown>): Record<string, string> {
  const fields = ignoredFields(body);
  if (fields.length === 0) return {};
  const safe = fields.map((f) =>
    /^[!-~]+$/.test(f) && !f.includes(',') && !f.includes('%') ? f : encodeURIComponent(f),
  );
  return { [IGNORED_FIELDS_HEADER]: safe.join(', ') };
}
