// The Idempotency-Key request header (issue 13; the IETF httpapi draft's name): any visible ASCII
// text up to 255 characters, such as a UUID.
import { ValidationError } from '../../domain/errors.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const MAX_KEY_CHARS = 255;

/** The key, or undefined when the header is absent; a 400 naming the header when unusable. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim();
  if (key === '' || key.length > MAX_KEY_CHARS || !/^[\x20-\x7e]+$/.test(key))
    throw new ValidationError({
      [IDEMPOTENCY_KEY_HEADER]: `must be 1-${MAX_KEY_CHARS} visible ASCII characters (a UUID, for example)`,
    });
  return key;
}
