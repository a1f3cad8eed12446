import { testSigningInterceptor } from '../../test-support/command-keys.js';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import type { ActivityDependencies } from '../../activities/index.js';
import { AidboxClient, type AidboxEnvironment } from '../../aidbox/client.js';
import { startStandin, type FaultSettings, type Standin } from '../../aidbox-standin/server.js';
import { createKeyring } from '../../credentials/keyring.js';
import { createSecretStore } from '../../credentials/secret-store.js';
import { Kysely, PostgresDialect } from 'kysely';
import { createDb, createPool, type Db, type DbOptions } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import { localhostOnlyResolver } from '../../platform/network.js';
import {
  startTestWorker,
  temporalConnectionOptions,
  uniqueTaskQueue,
  type RunningWorker,
} from '../../test-support/temporal.js';
import type { Environment } from '../../workflows/backend-service/service-state.js';
import { registerSecret, registeringSecretStore } from '../../test-support/secret-registry.js';

/**
 * The back end for a fault test, like test-support/system.ts but with the knobs fault tests turn:
 * which Temporal server (a restartable one of their own), which database URL the worker's
 * activities use (a cuttable proxy), stand-in faults from the start, and the worker either
 * in-process or left to the test (a real process it can SIGKILL).
 */
export interface FaultSystem {
  /** Connection to the database itself (never through a proxy): what the checks read. */
  db: Db;
  /** What the worker's activities use (the proxy's database when one is given). */
  workerDb: Db;
  client: Client;
  taskQueue: string;
  temporalAddress: string;
  standins: Record<Environment, Standin>;
  environments: Record<Environment, AidboxEnvironment>;
  deps: ActivityDependencies;
  secretKey: Buffer;
  worker: RunningWorker | undefined;
  startWorker(): Promise<RunningWorker>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface FaultSystemOptions {
  temporalAddress?: string;
  /** The database itself (default: the run's); a test whose digests must see no other file's writes brings its own. */
  databaseUrl?: string;
  /** Database URL for the activities (e.g. through a TCP proxy); default: the run's database. */
  workerDatabaseUrl?: string;
  workerDbOptions?: DbOptions;
  faults?: Partial<FaultSettings>;
  /** Start an in-process worker at once (default true). */
  withWorker?: boolean;
  aidboxTimeoutMs?: number;
}

export async function startFaultSystem(options: FaultSystemOptions = {}): Promise<FaultSystem> {
  const databaseUrl = options.databaseUrl ?? inject('databaseUrl');
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const db = createDb(databaseUrl, { poolSize: 5 });
  const workerDb = options.workerDatabaseUrl
    ? cuttableDb(options.workerDatabaseUrl, { poolSize: 5, ...options.workerDbOptions })
    : db;
  const rootClientSecret = randomBytes(18).toString('base64url');
  registerSecret(rootClientSecret, 'fault stand-ins admin secret');
  const standin = (orgbac: boolean) =>
    startStandin({
      orgbac,
      rootClientSecret,
      appMode: 'development',
      resolver: localhostOnlyResolver,
      ...(options.faults ? { faults: options.faults } : {}),
    });
  const standins = { sandbox: await standin(false), production: await standin(true) };
  const environment = (name: Environment): AidboxEnvironment => ({
    name,
    baseUrl: standins[name].url,
    publicUrl: standins[name].url,
    clientId: 'root',
    clientSecret: rootClientSecret,
    orgbac: name === 'production',
  });
  const environments = { sandbox: environment('sandbox'), production: environment('production') };
  const timeoutMs = options.aidboxTimeoutMs ?? 3_000;
  const secretKey = randomBytes(32);
  const deps: ActivityDependencies = {
    db: workerDb,
    secretStore: registeringSecretStore(
      createSecretStore(workerDb, createKeyring(new Map([['test', secretKey]]), 'test')),
      'fault worker',
    ),
    jwksFetcher: { mode: 'development', resolver: localhostOnlyResolver },
    aidbox: {
      sandbox: new AidboxClient(environments.sandbox, { timeoutMs }),
      production: new AidboxClient(environments.production, { timeoutMs }),
    },
    orgbac: { sandbox: false, production: true },
  };
  const connection = await Connection.connect(temporalConnectionOptions(temporalAddress));
  const client = new Client({ connection, interceptors: { workflow: [testSigningInterceptor()] } });
  const taskQueue = uniqueTaskQueue('faults');

  const system: FaultSystem = {
    db,
    workerDb,
    client,
    taskQueue,
    temporalAddress,
    standins,
    environments,
    deps,
    secretKey,
    worker: undefined,
    async startWorker() {
      system.worker = await startTestWorker(deps, { taskQueue, address: temporalAddress });
      return system.worker;
    },
    async stopWorker() {
      await system.worker?.stop();
      system.worker = undefined;
    },
    async stop() {
      await system.stopWorker();
      await client.connection.close();
      await standins.sandbox.stop();
      await standins.production.stop();
      if (workerDb !== db) await workerDb.destroy();
      await db.destroy();
    },
  };
  if (options.withWorker ?? true) await system.startWorker();
  return system;
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
