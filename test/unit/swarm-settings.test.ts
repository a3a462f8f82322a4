// readSwarmSettings: the service-job variables of CONTAINER_ENV=swarm (issue 15).
import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../../src/config/env-reader.js';
import { SWARM_VARIABLES, readSwarmSettings } from '../../src/backends/swarm/settings.js';

function read(env: Record<string, string>): {
  service: ReturnType<typeof readSwarmSettings>['service'];
  problems: readonly string[];
} {
  const r = createEnvReader(env);
  const settings = readSwarmSettings(r);
  return { service: settings.service, problems: r.problems };
}

describe('swarm service-job settings', () => {
  it('defaults: ingress, endpoints on 127.0.0.1, no network named', () => {
    expect(read({})).toStrictEqual({
      service: { publishMode: 'ingress', bindIp: '127.0.0.1', network: 'bridge' },
      problems: [],
    });
  });

  it('reads SERVICE_PUBLISH_MODE, SERVICE_BIND_IP and SERVICE_NETWORK', () => {
    const env = {
      SERVICE_PUBLISH_MODE: 'host',
      SERVICE_BIND_IP: '::1',
      SERVICE_NETWORK: 'algo-net',
    };
    expect(read(env)).toStrictEqual({
      service: { publishMode: 'host', bindIp: '::1', network: 'algo-net' },
      problems: [],
    });
  });

  it('refuses a bad value, naming the variable', () => {
    const { problems } = read({
      SERVICE_PUBLISH_MODE: 'mesh',
      SERVICE_BIND_IP: 'localhost',
      SERVICE_NETWORK: '-bad name',
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^SERVICE_NETWORK: "-bad name" is not a Docker network name/);
    expect(
      problems.some((p) => /^SERVICE_PUBLISH_MODE: "mesh" is not one of ingress, host/.test(p)),
    ).toBe(true);
    expect(
      problems.some((p) => p.startsWith('SERVICE_BIND_IP: "localhost" is not an IP address')),
    ).toBe(true);
  });

  it("the variables are swarm's own (warned about when set for a backend that ignores them)", () => {
    expect(SWARM_VARIABLES).toEqual(
      expect.arrayContaining(['SERVICE_PUBLISH_MODE', 'SERVICE_BIND_IP', 'SERVICE_NETWORK']),
    );
  });
});
