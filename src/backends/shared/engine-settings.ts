// The Docker Engine connection both engine backends read: DOCKER_HOST, DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH (never from process.env directly). Pure, so loadConfig can use it.
import type { EnvReader } from '../../config/env-reader.js';

export interface EngineConnection {
  /** DOCKER_HOST, e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2375; undefined = the local socket. */
  host?: string;
  tlsVerify: boolean;
  certPath?: string;
}

export function readEngine(r: EnvReader): EngineConnection {
  const host = r.string('DOCKER_HOST');
  if (host !== undefined && !/^(unix|tcp|http|https):\/\/./.test(host)) {
    r.problem(
      'DOCKER_HOST',
      `"${host}" is not a unix://, tcp://, http:// or https:// address (ssh:// is not supported)`,
    );
  }
  const certPath = r.string('DOCKER_CERT_PATH');
  return {
    ...(host !== undefined && { host }),
    tlsVerify: r.bool('DOCKER_TLS_VERIFY', false),
    ...(certPath !== undefined && { certPath }),
  };
}
