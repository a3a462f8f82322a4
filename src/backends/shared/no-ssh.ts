// docker-modem loads its SSH transport (and with it ssh2, ~12 MiB resident) at import time, for
// DOCKER_HOST=ssh://… engines. createDockerClient refuses that scheme, so the transport is replaced
// by a stub in the require cache before dockerode is loaded: idle RSS stays within the 80 MB budget
// (README, performance). dockerode is required here, not imported: Node runs a CommonJS package
// that ESM imports statically before any sibling module's code, i.e. before the stub could exist.
import { createRequire, Module } from 'node:module';
import type Dockerode from 'dockerode';

const require = createRequire(import.meta.url);

export function loadDockerode(): typeof Dockerode {
  const sshFile = sshTransportFile();
  if (sshFile !== undefined && require.cache[sshFile] === undefined) {
    const stub = new Module(sshFile);
    stub.filename = sshFile;
    stub.loaded = true;
    stub.exports = function sshUnsupported(): never {
      throw new Error('DOCKER_HOST=ssh://… is not supported; use unix:// or tcp://');
    };
    require.cache[sshFile] = stub;
  }
  return require('dockerode') as typeof Dockerode;
}

/** Where docker-modem keeps its SSH transport; undefined if a future version moved it (no stub then). */
function sshTransportFile(): string | undefined {
  try {
    return createRequire(require.resolve('dockerode')).resolve('docker-modem/lib/ssh.js');
  } catch {
    return undefined;
  }
}
