import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, isPortBusy } from './ports.js';

const PORT_VARIABLES = [
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'INTERNAL_FRONTEND_GRPC_PORT',
  'INTERNAL_FRONTEND_HTTP_PORT',
  'INTERNAL_FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

/**
 * The server processes' ports: free ones, remembered in `<dir>/ports.json` and reused at the next
 * start while they are free, so a restarted cluster has the addresses its membership table records
 * (Temporal forgets departed hosts only after a while).
 */
export async function clusterPorts(
  dir: string,
  frontendPort: number | undefined,
): Promise<Record<string, string>> {
  const file = path.join(dir, 'ports.json');
  let saved: Record<string, string> = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // First start.
  }
  const ports: Record<string, string> = {};
  const taken = new Set<number>();
  const frontend = frontendPort || Number(saved.FRONTEND_GRPC_PORT) || (await freePort());
  ports.FRONTEND_GRPC_PORT = String(frontend);
  taken.add(frontend);
  for (const variable of PORT_VARIABLES) {
    const previous = Number(saved[variable]);
    const low = variable.endsWith('MEMBERSHIP_PORT');
    let port: number;
    if (previous && !taken.has(previous) && !(await isPortBusy(previous))) port = previous;
    // Temporal stores membership ports as a PostgreSQL smallint: below 32768, then.
    else port = low ? await freeLowPort(taken) : await freePort();
    taken.add(port);
    ports[variable] = String(port);
  }
  writeFileSync(file, JSON.stringify(ports, null, 2) + '\n');
  return ports;
}

/** A free port in 20000–32767 (cluster_membership.rpc_port is a smallint). */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_700);
    if (!taken.has(port) && !(await isPortBusy(port))) return port;
  }
}
