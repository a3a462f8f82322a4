// A TCP listener on the host's default-bridge gateway that stands in for pman's API in the
// JOB_NETWORK tests (issue 10, item 4): a bridged container can route there, as it could to a
// port pman publishes. Shared by the Docker and Swarm engine tests.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';

/** A busybox script that exits 7 unless it can read "pman" from $TARGET ("<host> <port>"). */
export const REACH_PROBE =
  'nc -w 5 $TARGET </dev/null | grep -q pman && echo reached || { echo unreachable; exit 7; }';

export interface HostListener {
  /** "<host> <port>", for the probe's TARGET. */
  target: string;
  close(): Promise<void>;
}

/** The default bridge's gateway (the subnet's first address, docker0 on the host). */
function bridgeGateway(): string {
  const subnet = execFileSync(
    'docker',
    ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Subnet}}'],
    { encoding: 'utf8' },
  ).trim();
  const [a, b, c, d] = (subnet.split('/')[0] ?? '').split('.').map(Number);
  return `${a}.${b}.${c}.${(d ?? 0) + 1}`;
}

/** Listens on the bridge gateway and answers "pman" to every connection. */
export async function startHostListener(): Promise<HostListener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.end('pman\n');
  });
  const host = bridgeGateway();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    target: `${host} ${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
