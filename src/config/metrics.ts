// GET /metrics (issue 14): METRICS_TOKEN, the optional bearer token a scraper must send. Unset, the
// route is open like the /health probes (the scrape names no job: every label value is bounded).
import type { EnvReader } from './env-reader.js';

/** The shortest METRICS_TOKEN accepted: a guessable token guards nothing. */
export const MIN_METRICS_TOKEN_BYTES = 16;

export interface MetricsSettings {
  /** METRICS_TOKEN: `Authorization: Bearer <token>` required on GET /metrics; absent = open. */
  token?: string;
}

export function readMetricsSettings(r: EnvReader): MetricsSettings {
  const token = r.string('METRICS_TOKEN')?.trim();
  if (token === undefined || token === '') return {};
  if (Buffer.byteLength(token) < MIN_METRICS_TOKEN_BYTES) {
    r.problem(
      'METRICS_TOKEN',
      `must be at least ${MIN_METRICS_TOKEN_BYTES} bytes (it has ${Buffer.byteLength(token)}); ` +
        'generate one with: openssl rand -hex 32',
    );
    return {};
  }
  // Sent as an HTTP header value: anything outside visible ASCII could never match.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    r.problem('METRICS_TOKEN', 'must be visible ASCII without spaces (it is sent in a header)');
    return {};
  }
  return { token };
}
