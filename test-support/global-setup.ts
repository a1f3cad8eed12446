import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../db/database.js';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../db/migrate.js';
import { generateCommandKeyPair } from '../platform/command-tokens.js';
import { freePort } from '../platform/ports.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { startDevServer, type DevServer } from '../platform/temporal-dev-server.js';
import { postgresSchemaDir, resolveClusterBinaries } from '../platform/temporal-cluster-binaries.js';
import { postgresFromUrl, startTemporalCluster } from '../platform/temporal-cluster.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { testDatabaseUrl } from './database-url.js';

/**
 * Runs once per `npm test`: a Temporal dev server of its own (headless, free ports, in memory), a
 * database of its own (dropped afterwards), and the workflow bundle built once. Never those of
 * `npm start`.
 */
let server: Pick<DevServer, 'address' | 'stop'> | undefined;
let databaseUrl: string | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cli = await resolveTemporalCli();
  if (cli.type !== 'path') throw new Error('tests need a Temporal CLI binary (see README)');
  scratch = mkdtempSync(path.join(tmpdir(), 'bs-test-'));

  const [port, bundle] = await Promise.all([freePort(), bundleWorkflows()]);
  // A database file (not in-memory) so the secret-absence test can search what Temporal persisted.
  const temporalDbFile = path.join(scratch, 'temporal.db');
  // TEST_TEMPORAL=cluster: the production topology's Temporal instead (`npm run cluster`'s four
  // processes on PostgreSQL, mTLS + JWT), e.g. `TEST_TEMPORAL=cluster npm run test:only -- faults/`.
  const target = process.env.TEST_TEMPORAL === 'cluster' ? 'cluster' : 'dev-server';
  let clientEnv: Record<string, string> = {};
  if (target === 'cluster') {
    const cluster = await startTestCluster(cli.path, scratch);
    server = cluster;
    clientEnv = cluster.clientEnv;
  } else {
    server = await startDevServer({ cli: cli.path, port, headless: true, dbFile: temporalDbFile });
  }

  databaseUrl = testDatabaseUrl(`bs_test_${process.pid}_${Date.now().toString(36)}`);
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, { poolSize: 1 });
  await migrateToLatest(db);
  await db.destroy();

  // The run's command key pair: test clients and API sign with it, test workers verify with it.
  const commandKeys = await generateCommandKeyPair('test-command-key');

  const bundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalTarget', target);
  project.provide('temporalClientEnv', JSON.stringify(clientEnv));
  project.provide('temporalCliPath', cli.path);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalDbFile', temporalDbFile);
  project.provide('commandSigningKey', JSON.stringify(commandKeys.signingKey));
  project.provide('commandVerifyKeys', JSON.stringify(commandKeys.verifyKeys));
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (databaseUrl) await dropDatabase(databaseUrl).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

/** A Temporal cluster of the run's own (databases dropped at teardown), connected to as the worker. */
async function startTestCluster(cliPath: string, dir: string) {
  const database = `temporal_test_${process.pid}_${Date.now().toString(36)}`;
  const cluster = await startTemporalCluster({
    binaries: await resolveClusterBinaries(process.env, () => undefined),
    cli: cliPath,
    schemaDir: postgresSchemaDir(),
    dir: path.join(dir, 'cluster'),
    issuerDir: dir,
    postgres: postgresFromUrl(testDatabaseUrl('postgres')),
    databases: { temporal: database, visibility: `${database}_visibility` },
    namespace: 'default',
  });
  const {
    TEMPORAL_ADDRESS: _address,
    TEMPORAL_NAMESPACE: _namespace,
    TEMPORAL_UI_URL: _ui,
    ...clientEnv
  } = cluster.clientEnv('worker');
  return {
    address: cluster.address,
    clientEnv,
    async stop() {
      await cluster.stop();
      for (const name of [database, `${database}_visibility`])
        await dropDatabase(testDatabaseUrl(name)).catch(() => undefined);
    },
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** `dev-server` (default) or `cluster` (TEST_TEMPORAL=cluster). */
    temporalTarget: 'dev-server' | 'cluster';
    /** TEMPORAL_TLS_*_FILE and TEMPORAL_API_KEY_FILE of the cluster (JSON; `{}` on the dev server). */
    temporalClientEnv: string;
    temporalCliPath: string;
    databaseUrl: string;
    workflowBundlePath: string;
    temporalDbFile: string;
    /** COMMAND_SIGNING_KEY of the run (a private JWK, JSON). */
    commandSigningKey: string;
    /** COMMAND_VERIFY_KEYS of the run (a JWK Set, JSON). */
    commandVerifyKeys: string;
  }
}
