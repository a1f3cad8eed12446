import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { commandSigningInterceptor } from '../../api/commands/signing-interceptor.js';
import { createCommandSigner } from '../../api/commands/signer.js';
import { generateCommandKeyPair, type CommandKeyPair } from '../../platform/command-tokens.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { ActivityDependencies } from '../../activities/index.js';
import { AidboxClient, type AidboxEnvironment } from '../../aidbox/client.js';
import { startStandin, type Standin } from '../../aidbox-standin/server.js';
import { createKeyring } from '../../credentials/keyring.js';
import { createSecretStore } from '../../credentials/secret-store.js';
import { createDb, type Db } from '../../db/database.js';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../db/migrate.js';
import { DEFAULT_DATABASE_URL } from '../../platform/config.js';
import { localhostOnlyResolver } from '../../platform/network.js';
import { freePort } from '../../platform/ports.js';
import { resolveTemporalCli } from '../../platform/temporal-cli.js';
import { startDevServer, type DevServer } from '../../platform/temporal-dev-server.js';
import { postgresSchemaDir, resolveClusterBinaries } from '../../platform/temporal-cluster-binaries.js';
import { startTemporalCluster } from '../../platform/temporal-cluster.js';
import { postgresFromUrl } from '../../platform/temporal-cluster-config.js';
import type { Environment } from '../../workflows/backend-service/service-state.js';

/**
 * What a benchmark runs against, all its own and torn down afterwards: a Temporal dev server on
 * free ports, a database created on the local PostgreSQL (dropped at the end), and the two Aidbox
 * stand-ins on 127.0.0.1. Nothing of `npm start` or of a test run is touched.
 */
export interface BenchEnvironment {
  cliPath: string;
  databaseUrl: string;
  db: Db;
  /** The dev server, or with BENCH_TEMPORAL=cluster the production topology's Temporal cluster. */
  temporal: Pick<DevServer, 'address' | 'stop'>;
  /** `dev-server` or `cluster`. */
  target: BenchTarget;
  client: Client;
  standins: Record<Environment, Standin>;
  environments: Record<Environment, AidboxEnvironment>;
  deps: ActivityDependencies;
  secretKey: Buffer;
  /** The bench's command key pair: its client and API sign, its workers verify. */
  commandKeys: CommandKeyPair;
  nativeConnection(): Promise<NativeConnection>;
  stop(): Promise<void>;
}

export interface EnvironmentOptions {
  /** Skip the Temporal dev server (the read-path bench needs only PostgreSQL). */
  temporal?: boolean;
  standins?: boolean;
  poolSize?: number;
}

let runtimeInstalled = false;

export type BenchTarget = 'dev-server' | 'cluster';
/** BENCH_TEMPORAL=cluster runs a bench against `npm run cluster`'s Temporal (four processes, PostgreSQL, mTLS + JWT). */
export const benchTarget = (): BenchTarget =>
  process.env.BENCH_TEMPORAL === 'cluster' ? 'cluster' : 'dev-server';

/** A Temporal cluster of the bench's own (databases dropped at the end), and how to connect to it. */
async function startBenchCluster(name: string, cliPath: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-bench-cluster-'));
  const server = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const database = `temporal_bench_${name.replace(/\W/g, '_')}_${process.pid}`;
  const cluster = await startTemporalCluster({
    binaries: await resolveClusterBinaries(process.env, () => undefined),
    cli: cliPath,
    schemaDir: postgresSchemaDir(),
    dir: path.join(dir, 'cluster'),
    issuerDir: dir,
    postgres: postgresFromUrl(server.toString()),
    databases: { temporal: database, visibility: `${database}_visibility` },
    namespace: 'default',
  });
  const token = () => readFileSync(cluster.tokenFiles.api, 'utf8').trim();
  const tls = {
    serverNameOverride: 'temporal-frontend',
    serverRootCACertificate: readFileSync(cluster.certs.ca),
    clientCertPair: {
      crt: readFileSync(cluster.certs.clients.api.cert),
      key: readFileSync(cluster.certs.clients.api.key),
    },
  };
  const drop = async (db: string) => {
    const url = new URL(server.toString());
    url.pathname = `/${db}`;
    await dropDatabase(url.toString()).catch(() => undefined);
  };
  return {
    address: cluster.address,
    connectionOptions: () => ({ address: cluster.address, tls, apiKey: token() }),
    async stop() {
      await cluster.stop();
      await drop(database);
      await drop(`${database}_visibility`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBenchEnvironment(
  name: string,
  options: EnvironmentOptions = {},
): Promise<BenchEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const base = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
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
    let temporal: Pick<DevServer, 'address' | 'stop'> | undefined;
    let connectionOptions: () => { address: string } = () => ({ address: temporal!.address });
    let client: Client | undefined;
    const target = benchTarget();
    const commandKeys = await generateCommandKeyPair('bench-command-key');
    if (options.temporal ?? true) {
      const cli = await resolveTemporalCli();
      if (cli.type !== 'path') throw new Error('the benchmarks need a Temporal CLI binary (see README)');
      cliPath = cli.path;
      if (target === 'cluster') {
        const cluster = await startBenchCluster(name, cli.path);
        temporal = cluster;
        connectionOptions = cluster.connectionOptions;
      } else {
        temporal = await startDevServer({ cli: cli.path, port: await freePort(), headless: true });
      }
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
    const rootClientSecret = randomBytes(18).toString('base64url');
    const standin = (orgbac: boolean) =>
      startStandin({ orgbac, rootClientSecret, appMode: 'development', resolver: localhostOnlyResolver });
    const standins =
      (options.standins ?? true)
        ? { sandbox: await standin(false), production: await standin(true) }
        : undefined;
    if (standins)
      cleanups.push(
        () => standins.sandbox.stop(),
        () => standins.production.stop(),
      );
    const environment = (env: Environment): AidboxEnvironment => ({
      name: env,
      baseUrl: standins?.[env].url ?? 'http://127.0.0.1:1',
      publicUrl: standins?.[env].url ?? 'http://127.0.0.1:1',
      clientId: 'root',
      clientSecret: rootClientSecret,
      orgbac: env === 'production',
    });
    const environments = { sandbox: environment('sandbox'), production: environment('production') };
    const secretKey = randomBytes(32);
    const deps: ActivityDependencies = {
      db,
      secretStore: createSecretStore(db, createKeyring(new Map([['bench', secretKey]]), 'bench')),
      jwksFetcher: { mode: 'development', resolver: localhostOnlyResolver },
      aidbox: {
        sandbox: new AidboxClient(environments.sandbox),
        production: new AidboxClient(environments.production),
      },
      orgbac: { sandbox: false, production: true },
    };
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
        if (!standins) throw new Error('started without stand-ins');
        return standins;
      },
      environments,
      deps,
      secretKey,
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
