// Errors of the HTTP edge itself: the request body, before any job logic sees it.
import { JobError } from '../domain/errors.js';

/** The body is larger than the 1 MiB cap (413). */
export class BodyTooLargeError extends JobError {}

/** The body is not declared as JSON (415). */
export class UnsupportedMediaTypeError extends JobError {}
