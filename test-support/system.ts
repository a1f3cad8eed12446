import type { Client } from '@temporalio/client';
import { Kysely, PostgresDialect } from 'kysely';
import { inject } from 'vitest';
import type { FaultSettings } from '../aidbox-standin/server.js';
import { createDb, createPool, type Db, type DbOptions } from '../db/database.js';
import { liveServiceChanges } from './service-changes.js';
import type { ServiceChangeFeed } from '../api/services/service-changes.js';
import type { Database } from '../db/schema.js';
import { startBackend, type Backend } from './backend.js';
import { registerSecret, registeringSecretStore } from './secret-registry.js';
import { startTestWorker, testClient, uniqueTaskQueue, type RunningWorker } from './temporal.js';

/**
 * The whole back end for a test file, on real components: the run's Temporal dev server and
 * PostgreSQL database (or ones the test brings), two Aidbox stand-ins (sandbox without OrgBAC,
 * production with it) on 127.0.0.1, and a worker on a task queue of its own running the real
 * workflow bundle with the real activities. The options are the knobs fault tests turn.
 */
export interface TestSystem extends Pick<
  Backend,
  'standins' | 'environments' | 'aidbox' | 'secretStore' | 'secretKey' | 'deps'
> {
  /** The database itself (never through a proxy): what tests and checks read. */
  db: Db;
  /** The read model's change feed, live before the system is handed out (systemApp's detail cache trusts it). */
  serviceChanges: ServiceChangeFeed;
  /** What the worker's activities use: `db`, or a cuttable connection through a proxy. */
  workerDb: Db;
  client: Client;
  taskQueue: string;
  temporalAddress: string;
  /** The in-process worker; reading it when there is none throws. */
  worker: RunningWorker;
  /** What the stand-ins logged (one JSON line per request, with `env`), for the secret-absence test and call counts. */
  standinLogLines: string[];
  /** Stops the in-process worker, if any, and starts another on the same task queue. */
  restartWorker(): Promise<RunningWorker>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestSystemOptions {
  /** Start the in-process worker at once (default); without it the test runs its own (e.g. a process to SIGKILL). */
  withWorker?: boolean;
  /** The secret store's key (default: a fresh one); a test that reads the same ciphertexts elsewhere passes its own. */
  secretKey?: Buffer;
  /** Another Temporal server (default: the run's), e.g. a restartable one of the test's own. */
  temporalAddress?: string;
  /** The database itself (default: the run's); a test whose digests must see no other file's writes brings its own. */
  databaseUrl?: string;
  /** What the activities connect to (e.g. through a TCP proxy the test cuts); default: the database itself. */
  workerDatabaseUrl?: string;
  workerDbOptions?: DbOptions;
  /** Injected stand-in faults from the start. */
  faults?: Partial<FaultSettings>;
  aidboxTimeoutMs?: number;
}

export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const databaseUrl = options.databaseUrl ?? inject('databaseUrl');
  const db = createDb(databaseUrl, { poolSize: 5 });
  const serviceChanges = await liveServiceChanges(databaseUrl);
  const workerDb = options.workerDatabaseUrl
    ? cuttableDb(options.workerDatabaseUrl, { poolSize: 5, ...options.workerDbOptions })
    : db;
  const standinLogLines: string[] = [];
  const backend = await startBackend({
    db: workerDb,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.aidboxTimeoutMs ? { aidboxTimeoutMs: options.aidboxTimeoutMs } : {}),
    ...(options.secretKey ? { secretKey: options.secretKey } : {}),
    onRootSecret: (secret) => registerSecret(secret, 'stand-ins admin secret'),
    // Tagged with the box, so tests can count the calls one Aidbox received.
    onStandinRequest: (env, line) => void standinLogLines.push(JSON.stringify({ env, ...line })),
    wrapSecretStore: (store) => registeringSecretStore(store, 'test system'),
  });
  const client = await testClient(temporalAddress);
  const taskQueue = uniqueTaskQueue();
  let worker: RunningWorker | undefined;
  const startWorker = async () =>
    (worker = await startTestWorker(backend.deps, { taskQueue, address: temporalAddress }));
  const stopWorker = async () => {
    await worker?.stop();
    worker = undefined;
  };
  if (options.withWorker ?? true) await startWorker();
  return {
    db,
    serviceChanges,
    workerDb,
    client,
    taskQueue,
    temporalAddress,
    get worker() {
      if (!worker) throw new Error('this test system has no worker running');
      return worker;
    },
    standins: backend.standins,
    environments: backend.environments,
    aidbox: backend.aidbox,
    secretStore: backend.secretStore,
    secretKey: backend.secretKey,
    deps: backend.deps,
    standinLogLines,
    async restartWorker() {
      await stopWorker();
      return startWorker();
    },
    stopWorker,
    async stop() {
      await stopWorker();
      await client.connection.close();
      await backend.stop();
      if (workerDb !== db) await workerDb.destroy();
      await serviceChanges.close();
      await db.destroy();
    },
  };
}

/**
 * createDb's pool, plus an error listener on every client. Without it, a connection cut while a
 * client is checked out between two statements (inside the projection's transaction) emits an
 * 'error' nobody listens to: an uncaught exception that would crash the worker process. That is a
 * finding reported to the lead (db/database.ts handles only idle clients); here it must not crash
 * the test runner, so the errors are counted instead.
 */
export const checkedOutClientErrors = { count: 0 };
export function cuttableDb(databaseUrl: string, options: DbOptions): Db {
  const pool = createPool(databaseUrl, options);
  pool.on('connect', (client) => client.on('error', () => (checkedOutClientErrors.count += 1)));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
