// The webhook settings (issue 12): WEBHOOK_URL (every status event goes there), the hosts a job's
// own callback_url may target, the signing secret, how long a delivery is retried and how long one
// attempt may take.
import type { EnvReader } from './env-reader.js';

/** The shortest WEBHOOK_SECRET accepted (as for SECRET_KEY: 256 bits of HMAC key). */
export const MIN_WEBHOOK_SECRET_BYTES = 32;
/** WEBHOOK_MAX_AGE_SECONDS default: a delivery is retried for a day. */
export const DEFAULT_WEBHOOK_MAX_AGE_SECONDS = 24 * 60 * 60;
/** WEBHOOK_TIMEOUT_SECONDS default: one attempt waits this long for the receiver's answer. */
export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;

export interface WebhookSettings {
  /** WEBHOOK_URL: receives every status event (absent: none). */
  url?: string;
  /** WEBHOOK_SECRET: the HMAC-SHA256 key; set whenever a webhook can fire. */
  secret?: string;
  /** WEBHOOK_ALLOWED_HOSTS: lower-case host names or IPs (IPv6 without brackets) a callback_url may name. */
  allowedHosts: readonly string[];
  /** WEBHOOK_MAX_AGE_SECONDS: a delivery not acknowledged by then is dropped (counted as failed). */
  maxAgeSeconds: number;
  /** WEBHOOK_TIMEOUT_SECONDS: one attempt's bound (connect, send and answer). */
  timeoutSeconds: number;
}

/** A host as URL.hostname gives it, compared exactly: lower case, IPv6 without its brackets. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
}

export function readWebhookSettings(r: EnvReader): WebhookSettings {
  const url = readUrl(r);
  const allowedHosts = (r.string('WEBHOOK_ALLOWED_HOSTS') ?? '')
    .split(',')
    .map(normalizeHost)
    .filter((host) => host !== '');
  const secret = r.string('WEBHOOK_SECRET');
  const canFire = url !== undefined || allowedHosts.length > 0;
  if (canFire && secret === undefined)
    r.problem(
      'WEBHOOK_SECRET',
      'required when WEBHOOK_URL or WEBHOOK_ALLOWED_HOSTS is set (it signs every delivery); ' +
        'generate one with: openssl rand -hex 32',
    );
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_WEBHOOK_SECRET_BYTES)
    r.problem(
      'WEBHOOK_SECRET',
      `must be at least ${MIN_WEBHOOK_SECRET_BYTES} bytes (it has ${Buffer.byteLength(secret)}); ` +
        'generate one with: openssl rand -hex 32',
    );
  return {
    ...(url !== undefined && { url }),
    ...(secret !== undefined && { secret }),
    allowedHosts,
    maxAgeSeconds: r.int('WEBHOOK_MAX_AGE_SECONDS', DEFAULT_WEBHOOK_MAX_AGE_SECONDS, { min: 1 }),
    timeoutSeconds: r.int('WEBHOOK_TIMEOUT_SECONDS', DEFAULT_WEBHOOK_TIMEOUT_SECONDS, {
      min: 1,
      max: 600,
    }),
  };
}

/** WEBHOOK_URL: an absolute http(s) URL without user:password (any host: the operator chose it). */
function readUrl(r: EnvReader): string | undefined {
  const raw = r.string('WEBHOOK_URL');
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    r.problem(
      'WEBHOOK_URL',
      `must be an absolute http:// or https:// URL, got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.problem(
      'WEBHOOK_URL',
      `must be an http:// or https:// URL, got ${JSON.stringify(url.protocol)}`,
    );
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    r.problem('WEBHOOK_URL', 'must not carry a user name or password (deliveries are signed)');
    return undefined;
  }
  return url.href;
}
