// A loopback TCP proxy in front of the Docker socket, so a test can "stop" and "restart" the
// engine for one server without touching the dockerd that every other test shares.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface EngineProxy {
  /** tcp://127.0.0.1:<port>, for DOCKER_HOST. */
  readonly dockerHost: string;
  readonly port: number;
  /** "Engine down": stop listening and cut every open connection, so clients see resets and refusals. */
  down(): Promise<void>;
  /** "Engine back": listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

/** Starts the proxy on a free loopback port, forwarding to `socketPath`. */
export async function startEngineProxy(socketPath = '/var/run/docker.sock'): Promise<EngineProxy> {
  const open = new Set<Socket>();
  const track = (s: Socket): void => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  const onClient = (client: Socket): void => {
    const engine = connect(socketPath);
    track(client);
    track(engine);
    // Either side failing ends both: the client must see the cut, not a hang.
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
    client.pipe(engine);
    engine.pipe(client);
  };
  let server = createServer(onClient);
  const port = await listen(server, 0);
  let listening = true;
  const down = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of open) s.destroy();
    await closed;
  };
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    port,
    down,
    async up() {
      if (listening) return;
      // A closed net.Server can listen again, but a fresh one keeps the state obvious.
      server = createServer(onClient);
      await listen(server, port);
      listening = true;
    },
    close: down,
  };
}
