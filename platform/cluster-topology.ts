import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { standinProcesses } from '../aidbox-standin/process.js';
import { createDb } from '../db/database.js';
import { ensureDatabase, migrateToLatest } from '../db/migrate.js';
import type { ManagedProcess } from './managed-process.js';
import { startTemporalCluster, type ClusterOptions, type TemporalCluster } from './temporal-cluster.js';
import { ROOT } from './temporal-cluster-config.js';
import { spawn } from 'node:child_process';
import { workerV8FlagsFromEnv } from '../worker/memory-plan.js';
import { standinClientEnv } from './launcher.js';
import { waitForHttp } from './ports.js';
import { killGroup } from './supervisor.js';

/**
 * `npm run cluster` and `npm run test:cluster`: the whole production topology on one machine.
 * The Temporal cluster (platform/temporal-cluster.ts), the two Aidbox stand-ins, two worker
 * processes and two API processes on different ports, all on the cluster's mTLS + JWT frontend and
 * one read-model database of their own.
 */
export interface TopologyOptions extends Omit<ClusterOptions, 'databases'> {
  /** The read model's URL (a database of the cluster's own, never npm start's or the tests'). */
  databaseUrl: string;
  /** Prefix of the Temporal databases: `<prefix>` and `<prefix>_visibility`. */
  temporalDatabase: string;
  dataDir: string;
  apiPorts: [number, number];
  standinPorts: [number, number];
  taskQueue: string;
  /** Extra variables for the workers and the APIs (e.g. command keys). */
  appEnv?: Record<string, string>;
  /** A prebuilt workflow bundle for the workers (faster start). */
  workflowBundlePath?: string;
}

export interface Topology {
  temporal: TemporalCluster;
  apiUrls: [string, string];
  standinUrls: [string, string];
  standinAdminSecret: string;
  workers: [ManagedProcess, ManagedProcess];
  apis: [ManagedProcess, ManagedProcess];
  standins: [ManagedProcess, ManagedProcess];
  stop(): Promise<void>;
}

function appProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: TopologyOptions,
  ready?: RegExp,
  nodeFlags: string[] = [],
): ManagedProcess & { ready: Promise<void> } {
  let child: ReturnType<typeof spawn> | undefined;
  let expected = false;
  let resolveReady: () => void = () => undefined;
  let ready$ = new Promise<void>((r) => (resolveReady = r));
  const start = () => {
    expected = false;
    ready$ = new Promise<void>((r) => (resolveReady = r));
    child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...env, EXIT_WITH_PARENT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onLines = (stream: NodeJS.ReadableStream | null) => {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) {
          options.output?.(name, line);
          if (!ready || ready.test(line)) resolveReady();
        }
      });
    };
    onLines(child.stdout);
    onLines(child.stderr);
    child.once('exit', (code, signal) => {
      if (!expected) options.onUnexpectedExit?.(name, code, signal);
    });
  };
  start();
  return {
    name,
    get pid() {
      return child?.pid;
    },
    get ready() {
      return ready$;
    },
    get exited() {
      if (!child || (child.exitCode === null && child.signalCode === null)) return undefined;
      return child.signalCode ?? `code ${child.exitCode}`;
    },
    start,
    async kill(signal = 'SIGKILL') {
      expected = true;
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((r) => current.once('exit', () => r()));
      try {
        process.kill(-current.pid!, signal);
      } catch {
        // Gone.
      }
      await exited;
    },
    async stop() {
      expected = true;
      if (child) await killGroup(child, 8_000);
    },
  };
}

export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const say = options.say ?? (() => undefined);
  const { created } = await ensureDatabase(options.databaseUrl);
  const db = createDb(options.databaseUrl, { poolSize: 1 });
  await migrateToLatest(db);
  await db.destroy();
  say(`read model ${new URL(options.databaseUrl).pathname.slice(1)} ready${created ? ' (created)' : ''}`);

  const temporal = await startTemporalCluster({
    ...options,
    databases: { temporal: options.temporalDatabase, visibility: `${options.temporalDatabase}_visibility` },
  });
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await child.stop();
    await temporal.stop();
  };
  try {
    const adminSecret = randomBytes(24).toString('base64url');
    const specs = standinProcesses({
      sandboxPort: options.standinPorts[0],
      productionPort: options.standinPorts[1],
      rootClientSecret: adminSecret,
      appMode: 'development',
    });
    const standins = specs.map((spec) => {
      const child = appProcess(
        spec.name,
        'aidbox-standin/main.ts',
        { ...process.env, ...spec.env, STANDIN_LOG_REQUESTS: 'true' },
        options,
        /listening/,
      );
      started.push(child);
      return child;
    }) as unknown as [ManagedProcess, ManagedProcess];
    await Promise.all(
      specs.map((spec) => waitForHttp(`${spec.url.replace('localhost', '127.0.0.1')}/health`, 30_000)),
    );

    const appEnv = (holder: 'worker' | 'api'): NodeJS.ProcessEnv => ({
      ...process.env,
      APP_MODE: 'development',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: '4',
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      ...temporal.clientEnv(holder),
      ...standinClientEnv(specs, adminSecret),
      ...(options.workflowBundlePath ? { WORKFLOW_BUNDLE_PATH: options.workflowBundlePath } : {}),
      ...options.appEnv,
    });
    const workers = [1, 2].map((n) => {
      // Each process its own metrics listener (two of each on one host; apart from npm start's 9464/9465).
      const env = { ...appEnv('worker'), WORKER_METRICS_PORT: String(9555 + 10 * n), ...options.appEnv };
      // The heap limits of the worker's memory budget (worker/memory-plan.ts).
      const child = appProcess(
        `worker-${n}`,
        'worker/main.ts',
        env,
        options,
        /worker polling/,
        workerV8FlagsFromEnv(env),
      );
      started.push(child);
      return child;
    });
    const apis = options.apiPorts.map((port, i) => {
      const child = appProcess(
        `api-${i + 1}`,
        'api/main.ts',
        {
          ...appEnv('api'),
          PORT: String(port),
          PUBLIC_URL: `http://localhost:${port}`,
          API_METRICS_PORT: String(9554 + 10 * (i + 1)),
          ...options.appEnv,
        },
        options,
        /api listening/,
      );
      started.push(child);
      return child;
    });
    await Promise.all(workers.map((w) => w.ready));
    await Promise.all(options.apiPorts.map((port) => waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000)));
    return {
      temporal,
      apiUrls: options.apiPorts.map((port) => `http://localhost:${port}`) as [string, string],
      standinUrls: [specs[0].url, specs[1].url],
      standinAdminSecret: adminSecret,
      workers: workers as unknown as [ManagedProcess, ManagedProcess],
      apis: apis as unknown as [ManagedProcess, ManagedProcess],
      standins,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const clusterDataDir = (dataDir: string) => path.join(dataDir, 'cluster');
