import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/backends/shared/engine-client.js';

const require = createRequire(import.meta.url);

describe('the Docker client without the SSH transport', () => {
  it('never loads ssh2', async () => {
    const docker = await createDockerClient({ host: 'tcp://127.0.0.1:2375', tlsVerify: false });
    expect(docker).toBeDefined();
    expect(Object.keys(require.cache).filter((k) => k.includes('/node_modules/ssh2/'))).toEqual([]);
  });

  it('refuses an ssh:// DOCKER_HOST with a clear message', async () => {
    await expect(
      createDockerClient({ host: 'ssh://user@127.0.0.1', tlsVerify: false }),
    ).rejects.toThrow(/unsupported scheme "ssh:"/);
  });
});
