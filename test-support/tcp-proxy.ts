import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy that a test can cut and restore, to take a dependency (PostgreSQL) away
 * from the code under test without touching the machine's server (docs/architecture.md, "Tests and the network rule":
 * "PostgreSQL cut off (through a proxy, never by stopping the machine's server)").
 *
 * - `cut()`: every open connection is destroyed (the client sees ECONNRESET mid-query) and new
 *   connections are accepted then closed at once, the way a dead network path looks to a pool.
 * - `restore()`: new connections are forwarded again.
 * Listens on 127.0.0.1 and only forwards to a loopback target: tests never reach beyond the machine.
 */
export interface TcpProxy {
  host: string;
  port: number;
  /** Whether connections are forwarded right now. */
  readonly open: boolean;
  /** Connections accepted (forwarded or refused) so far: lets a test prove traffic went through it. */
  readonly connectionsSeen: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  if (!LOOPBACK.has(target.host)) {
    throw new Error(`the test proxy forwards only to loopback, not to ${target.host}`);
  }
  let open = true;
  let connectionsSeen = 0;
  const live = new Set<net.Socket>();

  const server = net.createServer((inbound) => {
    connectionsSeen += 1;
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect({
      host: target.host === 'localhost' ? '127.0.0.1' : target.host,
      port: target.port,
    });
    live.add(inbound);
    live.add(outbound);
    const forget = () => {
      live.delete(inbound);
      live.delete(outbound);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', forget).on('close', forget);
    outbound.on('error', forget).on('close', forget);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    get open() {
      return open;
    },
    get connectionsSeen() {
      return connectionsSeen;
    },
    cut() {
      open = false;
      for (const socket of live) socket.destroy();
      live.clear();
    },
    restore() {
      open = true;
    },
    close() {
      open = false;
      for (const socket of live) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** `databaseUrl` with its host and port replaced by the proxy's. */
export function throughProxy(databaseUrl: string, proxy: Pick<TcpProxy, 'host' | 'port'>): string {
  const url = new URL(databaseUrl);
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  return url.toString();
}

/** Host and port a PostgreSQL URL points at (5432 when unspecified). */
export function targetOf(databaseUrl: string): { host: string; port: number } {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432) };
}
