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
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { testDatabaseUrl } from './database-url.js';

/**
 * Runs once per `npm test`: a Temporal dev server of its own (headless, free ports, in memory), a
 * database of its own (dropped afterwards), and the workflow bundle built once. Never those of
 * `npm start`.
 */
let server: DevServer | undefined;
let databaseUrl: string | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cli = await resolveTemporalCli();
  if (cli.type !== 'path') throw new Error('tests need a Temporal CLI binary (see README)');
  scratch = mkdtempSync(path.join(tmpdir(), 'bs-test-'));

  const [port, bundle] = await Promise.all([freePort(), bundleWorkflows()]);
  // A database file (not in-memory) so the secret-absence test can search what Temporal persisted.
  const temporalDbFile = path.join(scratch, 'temporal.db');
  server = await startDevServer({ cli: cli.path, port, headless: true, dbFile: temporalDbFile });

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

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
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
