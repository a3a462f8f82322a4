// A complete HttpServerSettings for tests: the defaults of src/config/listen.ts with overrides.
import { HTTP_DEFAULTS } from '../../src/config/listen.js';
import type { HttpServerSettings } from '../../src/config/listen.js';

export function httpSettings(overrides: Partial<HttpServerSettings> = {}): HttpServerSettings {
  const allowedHostsSet = overrides.allowedHosts !== undefined;
  return {
    allowedHosts: [],
    allowedHostsSet,
    requestTimeoutMs: HTTP_DEFAULTS.requestTimeoutSeconds * 1000,
    headersTimeoutMs: HTTP_DEFAULTS.headersTimeoutSeconds * 1000,
    keepAliveTimeoutMs: HTTP_DEFAULTS.keepAliveTimeoutSeconds * 1000,
    idleTimeoutMs: HTTP_DEFAULTS.idleTimeoutSeconds * 1000,
    maxConnections: HTTP_DEFAULTS.maxConnections,
    ...overrides,
  };
}
