// The socket-level failures (Node's `err.code`) that mean "the server could not be reached", so the
// engine and Kubernetes clients both answer them with 503 instead of passing them on as our bugs.
const UNREACHABLE_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
] as const;

/** The shared unreachable codes plus the ones only one transport produces. */
export function unreachableCodes(...transportCodes: string[]): ReadonlySet<string> {
  return new Set<string>([...UNREACHABLE_CODES, ...transportCodes]);
}
