// Service jobs on Docker/Podman (issue 15), pure parts: the create body (published port, restart
// policy, network, label), the status of a service container (endpoint, restarts, never terminal
// while the engine restarts it), and SERVICE_BIND_IP / SERVICE_NETWORK at start-up.
import { describe, expect, it } from 'vitest';
import { freeHostPort, isPortTaken } from '../../src/backends/docker/host-port.js';
import { toContainerCreate } from '../../src/backends/docker/manifest.js';
import { readContainerSettings } from '../../src/backends/docker/settings.js';
import { fromContainer, isFinal, type ContainerView } from '../../src/backends/docker/status.js';
import { endpointFor } from '../../src/backends/shared/service-settings.js';
import { createEnvReader } from '../../src/config/env-reader.js';
import type { JobSpec } from '../../src/domain/job.js';
import { sampleSpec } from '../fixtures.js';

const HARD = { ignoreLimits: false, memoryLimitMode: 'hard' } as const;
const SERVICE = { port: 8080, exposure: 'ClusterIP' } as const;

function serviceSpec(overrides: Partial<JobSpec> = {}): JobSpec {
  return sampleSpec({ command: ['httpd', '-f', '-p', '8080'], service: SERVICE, ...overrides });
}

describe('toContainerCreate of a service job', () => {
  it('publishes the port on SERVICE_BIND_IP at an engine-picked host port, restarts unless stopped, joins SERVICE_NETWORK', () => {
    const body = toContainerCreate(serviceSpec(), {
      ...HARD,
      service: { bindIp: '10.1.2.3', network: 'services' },
    });
    expect(body.ExposedPorts).toStrictEqual({ '8080/tcp': {} });
    expect(body.HostConfig?.PortBindings).toStrictEqual({
      '8080/tcp': [{ HostIp: '10.1.2.3', HostPort: '' }],
    });
    expect(body.HostConfig?.RestartPolicy).toStrictEqual({ Name: 'unless-stopped' });
    expect(body.HostConfig?.NetworkMode).toBe('services');
    expect(body.Labels).toStrictEqual({
      'org.chrisproject.managed-by': 'pman',
      'pman.service.port': '8080',
    });
  });

  it('defaults: 127.0.0.1 and the bridge network', () => {
    const body = toContainerCreate(serviceSpec(), HARD);
    expect(body.HostConfig?.PortBindings).toStrictEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    expect(body.HostConfig?.NetworkMode).toBe('bridge');
  });

  it('keeps everything else exactly as a batch job has it', () => {
    const opts = { ...HARD, managedBy: 'pman-x' };
    const batch = toContainerCreate(serviceSpec({ service: undefined }), opts);
    const service = toContainerCreate(serviceSpec(), opts);
    // The service's own parts, put into the batch body, give exactly the service body: limits,
    // mounts, hardening, user, env and the other labels are the batch job's.
    expect({
      ...batch,
      ExposedPorts: { '8080/tcp': {} },
      Labels: { ...batch.Labels, 'pman.service.port': '8080' },
      HostConfig: {
        ...batch.HostConfig,
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        RestartPolicy: { Name: 'unless-stopped' },
        NetworkMode: 'bridge',
      },
    }).toStrictEqual(service);
    expect(batch.HostConfig?.Binds).toHaveLength(2);
    expect(batch.HostConfig?.CapDrop).toStrictEqual(['ALL']);
    expect(batch.HostConfig?.NetworkMode).toBe('none');
  });

  it("the backend's host port, when it chose one, is sent as HostPort", () => {
    const body = toContainerCreate(serviceSpec(), { ...HARD, hostPort: 40123 });
    expect(body.HostConfig?.PortBindings).toStrictEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '40123' }],
    });
  });

  it('a batch job has no published port, no service label and never restarts', () => {
    const body = toContainerCreate(sampleSpec(), HARD);
    expect(body.ExposedPorts).toBeUndefined();
    expect(body.HostConfig?.PortBindings).toBeUndefined();
    expect(body.HostConfig?.RestartPolicy).toStrictEqual({ Name: 'no' });
    expect(body.Labels?.['pman.service.port']).toBeUndefined();
  });
});

const ZERO = '0001-01-01T00:00:00Z';
const STARTED = '2024-05-07T15:01:00.222222222Z';
const FINISHED = '2024-05-07T15:02:11.123456789Z';

function container(
  state: Partial<ContainerView['State']>,
  extra: Partial<ContainerView> = {},
  labels: Record<string, string> = {
    'org.chrisproject.managed-by': 'pman',
    'pman.service.port': '8080',
  },
): ContainerView {
  return {
    Name: '/svc-1',
    Created: '2024-05-07T15:00:00Z',
    State: {
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      ExitCode: 0,
      StartedAt: STARTED,
      FinishedAt: ZERO,
      ...state,
    },
    Config: { Image: 'busybox', Entrypoint: ['httpd'], Labels: labels },
    ...extra,
  };
}

const PORTS = {
  NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '32771' }] } },
};

describe('fromContainer of a service container', () => {
  it('running: started, the endpoint from the published port, the restart count', () => {
    const info = fromContainer(container({}, { ...PORTS, RestartCount: 2 }));
    expect(info.status).toBe('started');
    expect(info.message).toBe('running');
    expect(info.service).toStrictEqual({ endpoint: 'http://127.0.0.1:32771', restarts: 2 });
  });

  it('restarting (what inspect shows right after the die event on Docker): started, never terminal', () => {
    const c = container(
      { Status: 'restarting', Restarting: true, ExitCode: 1, FinishedAt: FINISHED },
      { RestartCount: 3, NetworkSettings: { Ports: {} } },
    );
    const info = fromContainer(c);
    expect(info.status).toBe('started');
    expect(info.message).toBe('restarting after exit code 1 (3 restarts)');
    expect(info.exitCode).toBeUndefined();
    // No bound port while the engine waits to restart it: no endpoint.
    expect(info.service).toStrictEqual({ restarts: 3 });
    expect(isFinal(c)).toBe(false);
    expect(
      fromContainer(
        container({ Status: 'restarting', Restarting: true, ExitCode: 2 }, { RestartCount: 1 }),
      ).message,
    ).toBe('restarting after exit code 2 (1 restart)');
  });

  it('exited after a stop: terminal as for a batch job, without an endpoint', () => {
    const c = container(
      { Status: 'exited', Running: false, ExitCode: 137, FinishedAt: FINISHED },
      { ...PORTS, RestartCount: 0 },
    );
    const info = fromContainer(c);
    expect([info.status, info.message, info.exitCode]).toStrictEqual([
      'finishedWithError',
      'exited with code 137',
      137,
    ]);
    expect(info.service).toStrictEqual({ restarts: 0 });
    expect(isFinal(c)).toBe(true);
  });

  it('Podman: an exit the engine will follow with a restart is not terminal until settled', () => {
    const c = container(
      { Status: 'stopped', Running: false, ExitCode: 1, FinishedAt: FINISHED },
      { ...PORTS, RestartCount: 4 },
    );
    const pending = fromContainer(c, { exitSettled: () => false });
    expect([pending.status, pending.message]).toStrictEqual([
      'started',
      'restarting after exit code 1 (4 restarts)',
    ]);
    expect(isFinal(c, { exitSettled: () => false })).toBe(false);
    expect(fromContainer(c, { exitSettled: () => true }).status).toBe('finishedWithError');
    // A batch container's exit is final whatever the option says.
    const batch = container(
      { Status: 'exited', Running: false, ExitCode: 1, FinishedAt: FINISHED },
      {},
      { 'org.chrisproject.managed-by': 'pman' },
    );
    expect(fromContainer(batch, { exitSettled: () => false }).status).toBe('finishedWithError');
  });

  it('created: notstarted, no endpoint yet', () => {
    const info = fromContainer(
      container(
        { Status: 'created', Running: false, StartedAt: ZERO },
        { NetworkSettings: { Ports: { '8080/tcp': null } } },
      ),
    );
    expect(info.status).toBe('notstarted');
    expect(info.service).toStrictEqual({ restarts: 0 });
  });

  it('a wildcard binding is reached through SERVICE_BIND_IP; IPv6 in brackets', () => {
    const wildcard = container(
      {},
      {
        NetworkSettings: {
          Ports: {
            '8080/tcp': [
              { HostIp: '0.0.0.0', HostPort: '40001' },
              { HostIp: '::', HostPort: '40001' },
            ],
          },
        },
      },
    );
    expect(fromContainer(wildcard, { bindIp: '192.168.1.5' }).service?.endpoint).toBe(
      'http://192.168.1.5:40001',
    );
    expect(endpointFor('::1', 5, '127.0.0.1')).toBe('http://[::1]:5');
    expect(endpointFor('::', 5, 'fd00::1')).toBe('http://[fd00::1]:5');
  });

  it('a batch container has no service view', () => {
    const info = fromContainer(container({}, PORTS, { 'org.chrisproject.managed-by': 'pman' }));
    expect(info.service).toBeUndefined();
  });
});

describe('SERVICE_BIND_IP and SERVICE_NETWORK', () => {
  function read(env: Record<string, string>): {
    problems: readonly string[];
    s: ReturnType<typeof readContainerSettings>;
  } {
    const r = createEnvReader(env);
    const s = readContainerSettings(r);
    return { problems: r.problems, s };
  }

  it('unset: nothing set (the defaults 127.0.0.1 and bridge apply where used)', () => {
    const { problems, s } = read({});
    expect(problems).toStrictEqual([]);
    expect([s.serviceBindIp, s.serviceNetwork]).toStrictEqual([undefined, undefined]);
  });

  it('an IP literal and a network name are taken', () => {
    const { problems, s } = read({ SERVICE_BIND_IP: '::1', SERVICE_NETWORK: 'services' });
    expect(problems).toStrictEqual([]);
    expect([s.serviceBindIp, s.serviceNetwork]).toStrictEqual(['::1', 'services']);
  });

  it('a host name is refused, naming the variable', () => {
    const { problems } = read({ SERVICE_BIND_IP: 'localhost' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SERVICE_BIND_IP: "localhost" is not an IP address/);
  });

  it('none and host cannot carry a published port', () => {
    for (const network of ['none', 'host']) {
      const { problems } = read({ SERVICE_NETWORK: network });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^SERVICE_NETWORK: "${network}" cannot carry`));
    }
  });
});

describe('the host port of a service', () => {
  it('is one the OS says is free on the bind address', async () => {
    const port = await freeHostPort('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThanOrEqual(65535);
  });

  it('an address this process does not have still gives a port (the engine checks it at start)', async () => {
    const port = await freeHostPort('203.0.113.7');
    expect(port).toBeGreaterThan(0);
  });

  it("the engine's refusals of a taken port are told apart from other start failures", () => {
    expect(
      isPortTaken(
        new Error(
          'driver failed programming external connectivity on endpoint x (1): Bind for 127.0.0.1:45124 failed: port is already allocated',
        ),
      ),
    ).toBe(true);
    expect(
      isPortTaken(
        new Error(
          'Error starting userland proxy: listen tcp4 127.0.0.1:45123: bind: address already in use',
        ),
      ),
    ).toBe(true);
    expect(isPortTaken(new Error('exec: "httpd": executable file not found in $PATH'))).toBe(false);
  });
});
