import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { inject } from 'vitest';
import type { ActivityDependencies } from '../activities/index.js';
import { AidboxClient, type AidboxEnvironment } from '../aidbox/client.js';
import { startStandin, type Standin } from '../aidbox-standin/server.js';
import { createKeyring } from '../credentials/keyring.js';
import { createSecretStore, type SecretStore } from '../credentials/secret-store.js';
import { createDb, type Db } from '../db/database.js';
import { localhostOnlyResolver } from '../platform/network.js';
import type { Environment } from '../workflows/backend-service/service-state.js';
import { startTestWorker, testClient, type RunningWorker } from './temporal.js';
import { registerSecret, registeringSecretStore } from './secret-registry.js';

/**
 * The whole back end for a test file, on real components: the run's Temporal dev server and
 * PostgreSQL database, two Aidbox stand-ins (sandbox without OrgBAC, production with it) on
 * 127.0.0.1, and a worker running the real workflow bundle with the real activities.
 */
export interface TestSystem {
  db: Db;
  client: Client;
  worker: RunningWorker;
  standins: Record<Environment, Standin>;
  environments: Record<Environment, AidboxEnvironment>;
  aidbox: Record<Environment, AidboxClient>;
  secretStore: SecretStore;
  deps: ActivityDependencies;
  /** What the stand-ins logged (one JSON line per request, with `env`), for the secret-absence test and call counts. */
  standinLogLines: string[];
  /** Starts another worker on the same task queue (e.g. after stopping one). */
  restartWorker(): Promise<RunningWorker>;
  stop(): Promise<void>;
}

export async function startTestSystem(
  options: { withWorker?: boolean; secretKey?: Buffer } = {},
): Promise<TestSystem> {
  const db = createDb(inject('databaseUrl'), { poolSize: 5 });
  const rootClientSecret = randomBytes(18).toString('base64url');
  registerSecret(rootClientSecret, 'stand-ins admin secret');
  const standinLogLines: string[] = [];
  const standinOptions = (env: Environment) => ({
    rootClientSecret,
    appMode: 'development' as const,
    resolver: localhostOnlyResolver,
    // Tagged with the box, so tests can count the calls one Aidbox received.
    onRequest: (line: object) => void standinLogLines.push(JSON.stringify({ env, ...line })),
  });
  const standins = {
    sandbox: await startStandin({ ...standinOptions('sandbox'), orgbac: false }),
    production: await startStandin({ ...standinOptions('production'), orgbac: true }),
  };
  const environment = (name: Environment): AidboxEnvironment => ({
    name,
    baseUrl: standins[name].url,
    publicUrl: standins[name].url,
    clientId: 'root',
    clientSecret: rootClientSecret,
    orgbac: name === 'production',
  });
  const environments = { sandbox: environment('sandbox'), production: environment('production') };
  const aidbox = {
    sandbox: new AidboxClient(environments.sandbox, { timeoutMs: 3_000 }),
    production: new AidboxClient(environments.production, { timeoutMs: 3_000 }),
  };
  const secretStore = registeringSecretStore(
    createSecretStore(db, createKeyring(new Map([['test', options.secretKey ?? randomBytes(32)]]), 'test')),
    'test system',
  );
  const deps: ActivityDependencies = {
    db,
    secretStore,
    jwksFetcher: { mode: 'development', resolver: localhostOnlyResolver },
    aidbox,
    orgbac: { sandbox: false, production: true },
  };
  const client = await testClient();
  let worker = options.withWorker === false ? undefined : await startTestWorker(deps);
  const taskQueue = worker?.taskQueue;
  return {
    db,
    client,
    get worker() {
      if (!worker) throw new Error('this test system was started without a worker');
      return worker;
    },
    standins,
    environments,
    aidbox,
    secretStore,
    deps,
    standinLogLines,
    async restartWorker() {
      await worker?.stop();
      worker = await startTestWorker(deps, taskQueue ? { taskQueue } : {});
      return worker;
    },
    async stop() {
      await worker?.stop();
      await client.connection.close();
      await standins.sandbox.stop();
      await standins.production.stop();
      await db.destroy();
    },
  };
}
