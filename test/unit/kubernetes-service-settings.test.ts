// The Kubernetes backend's service-job settings (issue 15): SERVICE_START_TIMEOUT_SECONDS becomes
// the Deployments' progressDeadlineSeconds, SERVICE_NODE_ADDRESS the host of NodePort endpoints.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';

const KUBE = { CONTAINER_ENV: 'kubernetes', VOLUME_NAME: 'storebase' };

describe('kubernetes service-job settings', () => {
  it('unset: neither key (the shared 120 s default applies in the backend)', () => {
    const backend = loadConfig(KUBE).backend;
    expect(backend).not.toHaveProperty('serviceStartTimeoutSeconds');
    expect(backend).not.toHaveProperty('serviceNodeAddress');
  });

  it('set: both reach the backend settings, on openshift too', () => {
    for (const kind of ['kubernetes', 'openshift']) {
      const backend = loadConfig({
        ...KUBE,
        CONTAINER_ENV: kind,
        SERVICE_START_TIMEOUT_SECONDS: '300',
        SERVICE_NODE_ADDRESS: '192.0.2.10',
      }).backend;
      expect(backend).toMatchObject({
        kind,
        serviceStartTimeoutSeconds: 300,
        serviceNodeAddress: '192.0.2.10',
      });
    }
  });

  it('SERVICE_NODE_ADDRESS: an IP literal or a host name; a URL or host:port stops start-up naming it', () => {
    for (const ok of ['192.0.2.10', '2001:db8::1', 'node1.example.org', 'worker-3']) {
      expect(loadConfig({ ...KUBE, SERVICE_NODE_ADDRESS: ok }).backend).toMatchObject({
        serviceNodeAddress: ok,
      });
    }
    for (const bad of ['http://192.0.2.10', '192.0.2.10:30080', 'node 1', '-node']) {
      expect(() => loadConfig({ ...KUBE, SERVICE_NODE_ADDRESS: bad })).toThrow(
        /SERVICE_NODE_ADDRESS.*neither an IP address nor a host name/,
      );
    }
  });

  it('a bad SERVICE_START_TIMEOUT_SECONDS stops start-up naming it once', () => {
    expect(() => loadConfig({ ...KUBE, SERVICE_START_TIMEOUT_SECONDS: '0' })).toThrow(ConfigError);
    const message = (() => {
      try {
        loadConfig({ ...KUBE, SERVICE_START_TIMEOUT_SECONDS: '0' });
        return '';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    })();
    expect(message.match(/SERVICE_START_TIMEOUT_SECONDS/g)).toHaveLength(1);
  });
});
