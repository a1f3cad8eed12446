import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../db/database.js';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../db/migrate.js';
import { generateCommandKeyPair } from '../platform/command-tokens.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { sql } from 'kysely';
import { testDatabaseUrl } from './database-url.js';
import { readRegistry, whereFound } from './secret-registry.js';
import { startOwnTemporal, type OwnTemporal } from './temporal-server.js';

/**
 * Runs once per `npm test`: a Temporal dev server of its own (headless, free ports, in memory), a
 * database of its own (dropped afterwards), and the workflow bundle built once. Never those of
 * `npm start`.
 */
let server: OwnTemporal | undefined;
let databaseUrl: string | undefined;
let scratch: string | undefined;
let registryFile: string | undefined;
let temporalDbFile: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cli = await resolveTemporalCli();
  if (cli.type !== 'path') throw new Error('tests need a Temporal CLI binary (see README)');
  scratch = mkdtempSync(path.join(tmpdir(), 'bs-test-'));

  // A database file (not in-memory) so the secret-absence test can search what Temporal persisted.
  temporalDbFile = path.join(scratch, 'temporal.db');
  // TEST_TEMPORAL=cluster: the production topology's Temporal instead (`npm run cluster`'s four
  // processes on PostgreSQL, mTLS + JWT), e.g. `TEST_TEMPORAL=cluster npm run test:only -- faults/`.
  const target = process.env.TEST_TEMPORAL === 'cluster' ? 'cluster' : 'dev-server';
  // Bundled first: a failure there leaves no server behind.
  const bundle = await bundleWorkflows();
  server = await startOwnTemporal({
    target,
    cliPath: cli.path,
    dbFile: temporalDbFile,
    dir: scratch,
    postgresUrl: testDatabaseUrl('postgres'),
    clusterDatabase: `temporal_test_${process.pid}_${Date.now().toString(36)}`,
  });

  databaseUrl = testDatabaseUrl(`bs_test_${process.pid}_${Date.now().toString(36)}`);
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, { poolSize: 1 });
  await migrateToLatest(db);
  await db.destroy();

  // The run's command key pair: test clients and API sign with it, test workers verify with it.
  const commandKeys = await generateCommandKeyPair('test-command-key');

  const bundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  // Every secret any test process handles is appended here (secret-registry.ts); teardown searches for them all.
  registryFile = path.join(scratch, 'secrets.jsonl');
  writeFileSync(registryFile, '');
  project.provide('secretRegistryFile', registryFile);
  project.provide('temporalAddress', server.address);
  project.provide('temporalTarget', target);
  project.provide('temporalClientEnv', JSON.stringify(server.clientEnv));
  project.provide('temporalCliPath', cli.path);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalDbFile', temporalDbFile);
  project.provide('commandSigningKey', JSON.stringify(commandKeys.signingKey));
  project.provide('commandVerifyKeys', JSON.stringify(commandKeys.verifyKeys));
}

export async function teardown(): Promise<void> {
  let failure: Error | undefined;
  try {
    await server?.stop();
    failure = await searchForSecrets();
  } finally {
    if (databaseUrl) await dropDatabase(databaseUrl).catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  if (failure) throw failure;
}

/**
 * The run's final secret check: every secret any test registered, searched for in what the whole run
 * persisted (Temporal's database file, where every history of every test file ends up, and every
 * table of the run's database). Canaries registered by the secret-absence test must be found there,
 * or the search proves nothing. Logs live in the test processes and are searched by that test.
 */
async function searchForSecrets(): Promise<Error | undefined> {
  if (!registryFile || !databaseUrl) return undefined;
  const entries = readRegistry(registryFile);
  if (entries.length === 0) return undefined;
  const haystacks: Record<string, string> = {};
  for (const file of [temporalDbFile, `${temporalDbFile}-wal`]) {
    if (file && existsSync(file))
      haystacks[`temporal ${path.basename(file)}`] = readFileSync(file).toString('latin1');
  }
  const db = createDb(databaseUrl, { poolSize: 1 });
  try {
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    for (const { table_name } of tables.rows) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(db);
      haystacks[`table ${table_name}`] = rows.rows.map((r) => r.row).join('\n');
    }
  } finally {
    await db.destroy();
  }
  const problems: string[] = [];
  const secrets = entries.filter((e) => e.kind === 'secret');
  for (const entry of secrets) {
    const found = whereFound(haystacks, entry.value);
    if (found.length > 0) problems.push(`a secret (${entry.source}) is in ${found.join(', ')}`);
  }
  for (const entry of entries.filter((e) => e.kind === 'canary')) {
    const found = whereFound(haystacks, entry.value);
    const missing = ['temporal', 'table'].filter((kind) => !found.some((f) => f.startsWith(kind)));
    if (missing.length > 0)
      problems.push(
        `the canary of ${entry.source} was not found in ${missing.join(', ')}: the search proves nothing there`,
      );
  }
  console.info(
    `[secret check] ${secrets.length} registered secret(s) searched in ${Object.keys(haystacks).length} stores: ${problems.length === 0 ? 'none found' : 'FOUND'}`,
  );
  return problems.length > 0 ? new Error(`secret check failed:\n${problems.join('\n')}`) : undefined;
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
    /** The run's secret registry (secret-registry.ts): one JSON line per secret a test handled. */
    secretRegistryFile: string;
    /** COMMAND_SIGNING_KEY of the run (a private JWK, JSON). */
    commandSigningKey: string;
    /** COMMAND_VERIFY_KEYS of the run (a JWK Set, JSON). */
    commandVerifyKeys: string;
  }
}
