import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { commandSigningInterceptor } from '../../api/commands/signing-interceptor.js';
import { createCommandSigner } from '../../api/commands/signer.js';
import { createDb, type Db } from '../../db/database.js';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../db/migrate.js';
import { generateCommandKeyPair, type CommandKeyPair } from '../../platform/command-tokens.js';
import { DEFAULT_DATABASE_URL } from '../../platform/config.js';
import { resolveTemporalCli } from '../../platform/temporal-cli.js';
import { startBackend, type Backend } from '../backend.js';
import { ownTemporalConnectionOptions, startOwnTemporal, type OwnTemporal } from '../temporal-server.js';

/**
 * What a benchmark runs against, all its own and torn down afterwards: a Temporal dev server on
 * free ports, a database created on the local PostgreSQL (dropped at the end), and the back end of
 * the tests (test-support/backend.ts: the two Aidbox stand-ins on 127.0.0.1 and the activities'
 * dependencies). Nothing of `npm start` or of a test run is touched.
 */
export interface BenchEnvironment extends Pick<
  Backend,
  'standins' | 'standinPids' | 'environments' | 'deps' | 'secretKey' | 'secretKeyId'
> {
  cliPath: string;
  databaseUrl: string;
  db: Db;
  /** The dev server, or with BENCH_TEMPORAL=cluster the production topology's Temporal cluster. */
  temporal: OwnTemporal;
  /** `dev-server` or `cluster`. */
  target: BenchTarget;
  client: Client;
  /** The bench's command key pair: its client and API sign, its workers verify. */
  commandKeys: CommandKeyPair;
  nativeConnection(): Promise<NativeConnection>;
  stop(): Promise<void>;
}

export interface EnvironmentOptions {
  /** Skip the Temporal dev server (the read-path bench needs only PostgreSQL). */
  temporal?: boolean;
  /** As for startBackend (test-support/backend.ts): in process (default), none, or `processes`. */
  standins?: boolean | 'processes';
  poolSize?: number;
}

let runtimeInstalled = false;

export type BenchTarget = 'dev-server' | 'cluster';
/** BENCH_TEMPORAL=cluster runs a bench against `npm run cluster`'s Temporal (four processes, PostgreSQL, mTLS + JWT). */
export const benchTarget = (): BenchTarget =>
  process.env.BENCH_TEMPORAL === 'cluster' ? 'cluster' : 'dev-server';

export async function startBenchEnvironment(
  name: string,
  options: EnvironmentOptions = {},
): Promise<BenchEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const server = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const base = new URL(server);
  base.pathname = `/bs_bench_${name.replace(/\W/g, '_')}_${process.pid}`;
  const databaseUrl = base.toString();
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, { poolSize: options.poolSize ?? 10 });
  await migrateToLatest(db);

  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error('cleanup:', e));
    await db.destroy();
    await dropDatabase(databaseUrl);
  };
  try {
    let cliPath = '';
    let temporal: OwnTemporal | undefined;
    let client: Client | undefined;
    const target = benchTarget();
    const commandKeys = await generateCommandKeyPair('bench-command-key');
    const connectionOptions = () => ownTemporalConnectionOptions(temporal!.address, temporal!.clientEnv);
    if (options.temporal ?? true) {
      const cli = await resolveTemporalCli();
      if (cli.type !== 'path') throw new Error('the benchmarks need a Temporal CLI binary (see README)');
      cliPath = cli.path;
      const dir = mkdtempSync(path.join(tmpdir(), 'bs-bench-temporal-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      temporal = await startOwnTemporal({
        target,
        cliPath,
        dir,
        postgresUrl: server,
        clusterDatabase: `temporal_bench_${name.replace(/\W/g, '_')}_${process.pid}`,
      });
      cleanups.push(() => temporal!.stop());
      const connection = await Connection.connect(connectionOptions());
      client = new Client({
        connection,
        interceptors: {
          workflow: [commandSigningInterceptor(createCommandSigner(commandKeys.signingKey))],
        },
      });
      cleanups.push(() => connection.close());
    }
    const backend = await startBackend({
      db,
      standins: options.standins ?? true,
      secretKeyId: 'bench',
      aidboxTimeoutMs: 10_000,
    });
    cleanups.push(() => backend.stop());
    return {
      cliPath,
      target,
      commandKeys,
      databaseUrl,
      db,
      get temporal() {
        if (!temporal) throw new Error('started without Temporal');
        return temporal;
      },
      get client() {
        if (!client) throw new Error('started without Temporal');
        return client;
      },
      get standins() {
        return backend.standins;
      },
      standinPids: backend.standinPids,
      environments: backend.environments,
      deps: backend.deps,
      secretKey: backend.secretKey,
      secretKeyId: backend.secretKeyId,
      nativeConnection: async () => {
        const connection = await NativeConnection.connect(connectionOptions());
        cleanups.push(() => connection.close());
        return connection;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `main` with the environment and always tears it down, also on Ctrl-C. */
export async function withBenchEnvironment(
  name: string,
  options: EnvironmentOptions,
  main: (env: BenchEnvironment) => Promise<void>,
): Promise<void> {
  const env = await startBenchEnvironment(name, options);
  const onSignal = () => void env.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    await main(env);
  } finally {
    process.off('SIGINT', onSignal);
    await env.stop();
  }
}

/** The environment for a bench's child process: ours without any OpenTelemetry setting (no exporter, no SDK). */
export function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
}
