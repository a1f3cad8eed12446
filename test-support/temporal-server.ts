import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dropDatabase } from '../db/migrate.js';
import { temporalSchema } from '../platform/config.js';
import { freePort } from '../platform/ports.js';
import { startDevServer } from '../platform/temporal-dev-server.js';
import { postgresSchemaDir, resolveClusterBinaries } from '../platform/temporal-cluster-binaries.js';
import { startTemporalCluster } from '../platform/temporal-cluster.js';
import { postgresFromUrl } from '../platform/temporal-cluster-config.js';
import { tlsFromConfig } from '../platform/temporal-connection.js';

/**
 * A Temporal server of one's own, for a test run (global-setup.ts) or a benchmark (test-support/bench/environment.ts):
 * the CLI's dev server on a free port, headless, bound to 127.0.0.1; or, with the target `cluster`,
 * the production topology's Temporal (`npm run cluster`'s four processes on PostgreSQL, mTLS + JWT)
 * with databases of its own, dropped when it stops. Free of vitest: benchmarks are plain scripts.
 */
export type TemporalTarget = 'dev-server' | 'cluster';

export interface OwnTemporal {
  address: string;
  /** TEMPORAL_TLS_*_FILE and TEMPORAL_API_KEY_FILE of the cluster, as its workers have them; `{}` on the dev server. */
  clientEnv: Record<string, string>;
  stop(): Promise<void>;
}

export interface OwnTemporalOptions {
  target: TemporalTarget;
  /** The Temporal CLI (platform/temporal-cli.ts). */
  cliPath: string;
  /** The dev server's SQLite file (default: in memory). */
  dbFile?: string;
  /** A scratch folder for the cluster's certificates, issuer and processes. */
  dir: string;
  /** Any URL of the PostgreSQL server the cluster's databases go on (only the server is used). */
  postgresUrl: string;
  /** The cluster's database; its visibility database is named with `_visibility` after it. */
  clusterDatabase: string;
}

export async function startOwnTemporal(options: OwnTemporalOptions): Promise<OwnTemporal> {
  if (options.target === 'dev-server') {
    const server = await startDevServer({
      cli: options.cliPath,
      port: await freePort(),
      headless: true,
      ...(options.dbFile ? { dbFile: options.dbFile } : {}),
    });
    return { address: server.address, clientEnv: {}, stop: () => server.stop() };
  }
  const databases = [options.clusterDatabase, `${options.clusterDatabase}_visibility`] as const;
  const cluster = await startTemporalCluster({
    binaries: await resolveClusterBinaries(process.env, () => undefined),
    cli: options.cliPath,
    schemaDir: postgresSchemaDir(),
    dir: path.join(options.dir, 'cluster'),
    issuerDir: options.dir,
    postgres: postgresFromUrl(options.postgresUrl),
    databases: { temporal: databases[0], visibility: databases[1] },
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
      for (const name of databases) {
        const url = new URL(options.postgresUrl);
        url.pathname = `/${name}`;
        await dropDatabase(url.toString()).catch(() => undefined);
      }
    },
  };
}

/**
 * How a client or a worker connects: the address, and on a cluster its mTLS files and token file,
 * read as the processes read them (the token again on every call: it is renewed while running).
 */
export function ownTemporalConnectionOptions(address: string, clientEnv: Record<string, string>) {
  if (Object.keys(clientEnv).length === 0) return { address };
  const config = temporalSchema.parse({ ...clientEnv, TEMPORAL_ADDRESS: address });
  const tls = tlsFromConfig(config);
  const apiKey = config.TEMPORAL_API_KEY_FILE
    ? readFileSync(config.TEMPORAL_API_KEY_FILE, 'utf8').trim()
    : undefined;
  return { address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}
