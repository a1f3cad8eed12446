import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_CLI_TYPES } from '../workflows/search-attributes.js';
import { waitForPort } from './ports.js';
import { pollSearchAttributes } from './search-attributes-ready.js';

export interface DevServerOptions {
  /** Path of the Temporal CLI binary (see temporal-cli.ts). */
  cli: string;
  port: number;
  /** Web UI port; omitted with `headless`. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file; omitted means in-memory (state lost when the process exits). */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes; default: discarded. */
  output?: 'inherit' | 'ignore' | NodeJS.WritableStream;
  /** Start in its own process group so a terminal's Ctrl-C reaches only our orchestrator. */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function devServerArgs(options: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    // Bind to loopback only, and never call home: the version check contacts Temporal's servers
    // (docs/architecture.md, tests section).
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    // An activity scheduled by a workflow task goes straight back to the worker that completed it
    // (no matching round trip): about half the cost of each Aidbox step on this server.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--log-level',
    'warn',
  ];
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.headless) args.push('--headless');
  else if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal');
  }
  for (const key of SEARCH_ATTRIBUTES) {
    args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_CLI_TYPES[key.name]}`);
  }
  return args;
}

/** Starts `temporal server start-dev` and resolves once it answers gRPC with our search attributes registered. */
export async function startDevServer(options: DevServerOptions, timeoutMs = 60_000): Promise<DevServer> {
  if (options.dbFile) mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const output = options.output ?? 'ignore';
  const child = spawn(options.cli, devServerArgs(options), {
    stdio: [
      'ignore',
      typeof output === 'string' ? output : 'pipe',
      typeof output === 'string' ? output : 'pipe',
    ],
    detached: options.detached ?? false,
  });
  if (typeof output !== 'string') {
    child.stdout?.pipe(output, { end: false });
    child.stderr?.pipe(output, { end: false });
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  const address = `127.0.0.1:${options.port}`;
  const stop = () => stopProcess(child);
  try {
    await Promise.race([
      waitForPort(options.port, '127.0.0.1', timeoutMs),
      new Promise((_, reject) =>
        child.once('exit', () => reject(new Error(`Temporal dev server ${exited}`))),
      ),
    ]);
    await waitForSearchAttributes(address, options.namespace ?? 'default', timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    uiUrl: options.headless ? undefined : `http://localhost:${options.uiPort ?? options.port + 1000}`,
    process: child,
    stop,
  };
}

async function waitForSearchAttributes(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await Connection.connect({ address });
  try {
    await pollSearchAttributes(connection, namespace, {
      deadline,
      intervalMs: 200,
      timeoutMessage: 'Temporal dev server did not register the search attributes in time',
    });
  } finally {
    await connection.close();
  }
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
