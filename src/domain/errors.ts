// Domain errors, named for what went wrong. Mapped to HTTP statuses only in http/on-error.ts.

export class JobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Field validation failed: a bundle of field → text, in pman's field order (400). */
export class ValidationError extends JobError {
  readonly fields: Readonly<Record<string, string>>;
  constructor(fields: Record<string, string>) {
    super(
      Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    );
    this.fields = fields;
  }
}

/** The request (or the backend about it) says the spec cannot run as given (400, plain message). */
export class InvalidSpecError extends JobError {}

/** The spec asks for something the backend cannot honour (400, plain message). */
export class UnsupportedError extends JobError {}

export class NotFoundError extends JobError {}

export class ConflictError extends JobError {}

/** Which of a job's two storeBase directories a problem is about. */
export type JobDir = 'input' | 'output';

/** input/output directories that break the storeBase rule on disk (400, bundled per directory). */
export class DirectoryError extends JobError {
  readonly problems: Readonly<Partial<Record<JobDir, string>>>;
  constructor(problems: Partial<Record<JobDir, string>>) {
    super(
      Object.entries(problems)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    );
    this.problems = problems;
  }
}

/** The backend cannot be reached, timed out or answered 5xx/429 (503 + Retry-After). */
export class BackendUnavailableError extends JobError {
  /** Seconds the client should wait; the backend's value when it gave one. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 5;
  }
}

/** The backend refused us for a reason that is not the caller's fault (RBAC, missing namespace): 500. */
export class BackendRefusedError extends JobError {}

/** The image is not on the operator's IMAGE_ALLOWLIST (403). */
export class ImageNotAllowedError extends JobError {
  readonly image: string;
  constructor(image: string) {
    super(`image ${JSON.stringify(image)} is not allowed by IMAGE_ALLOWLIST`);
    this.image = image;
  }
}

/** The server is at a configured limit (creates in flight): 429 + Retry-After, retry later. */
export class TooManyRequestsError extends JobError {
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/**
 * The job store cannot take the write (a full disk, an I/O error): 503 + Retry-After, naming the
 * store file, with nothing half-created — the request may be retried once the operator made room.
 */
export class StoreUnavailableError extends JobError {
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 30;
  }
}
