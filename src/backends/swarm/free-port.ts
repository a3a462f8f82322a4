// A free TCP port of this host, for a host-mode service job (issue 15): the swarm picks a new host
// port for every task it starts (seen on Docker 20.10: 32776, 32777, … across restarts), so the
// endpoint clients hold would break at each restart. The port is picked once, here, and pinned as
// the service's PublishedPort.
import { createServer } from 'node:net';

/**
 * Asks the OS for a port free on every IPv4 address (the engine publishes a host-mode port on
 * all of them), then releases it for the engine. Another process may take it meanwhile: the task
 * then fails to start and is restarted, and the job service ends a service that never gets healthy.
 */
export function freeHostPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port given'))));
    });
  });
}
