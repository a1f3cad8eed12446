import {
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadOrCreateDevelopmentIssuer, type LocalIssuer } from '../api/auth/local-issuer.js';
import {
  ensureClusterCerts,
  FRONTEND_SERVER_NAME,
  type ClientCertName,
  type ClusterCerts,
} from './cluster-certs.js';
import { managed, run, type ManagedProcess, type ProcessEvents } from './managed-process.js';
import { freePort, isPortBusy, waitForPort } from './ports.js';
import { pollSearchAttributes } from './search-attributes-ready.js';
import type { ClusterBinaries } from './temporal-cluster-binaries.js';
import {
  CLUSTER_FILES,
  SERVER_CONFIG_ARGS,
  SERVER_ROLES,
  SERVER_SERVICES,
  serverEnvFile,
  serverEnvironment,
  setupEnvFile,
  TOKEN_PERMISSIONS,
  UI_CONFIG_ARGS,
  uiEnvFile,
  uiServerEnvironment,
  type ClusterPostgres,
  type ServerRole,
  type TokenHolder,
} from './temporal-cluster-config.js';
import { identityProxy, serveJwks } from './temporal-cluster-http.js';
import { clusterPorts } from './temporal-cluster-ports.js';

/**
 * The production topology of Temporal on one machine (`npm run cluster`, `npm run test:cluster`):
 * PostgreSQL persistence and visibility (databases made and migrated by deploy/temporal-admin.sh with
 * temporal-sql-tool), the server as four processes (frontend with internal-frontend, history,
 * matching, worker), the Web UI server behind a small identity proxy, the namespace and our search
 * attributes. Settings come from the files compose uses (deploy/temporal/): the server config template,
 * dynamic config, server.env, setup.env, ui.env, deploy/temporal/ui/production.yaml.
 *
 * Secured as production: the frontend requires a client certificate of the cluster CA, every call
 * carries a JWT of the development issuer checked by the default claim mapper and authorizer (keys
 * from a JWKS this process serves on 127.0.0.1). Tokens are written to files and renewed at half
 * their lifetime; processes read them through TEMPORAL_API_KEY_FILE.
 */

export interface ClusterOptions extends ProcessEvents {
  binaries: ClusterBinaries;
  /** The temporal CLI (platform/temporal-cli.ts), for deploy/temporal-admin.sh namespace. */
  cli: string;
  schemaDir: string;
  /** `<DATA_DIR>/cluster`: certificates, tokens, logs. */
  dir: string;
  /** Where the development issuer's key lives (DATA_DIR). */
  issuerDir: string;
  postgres: ClusterPostgres;
  databases: { temporal: string; visibility: string };
  namespace: string;
  /** Frontend gRPC port and the Web UI's public port (0 = a free one). */
  frontendPort?: number;
  uiPort?: number;
  /** Lifetime of the tokens written for processes; renewed at half of it. */
  tokenTtlSeconds?: number;
  logLevel?: string;
  say?: (line: string) => void;
}

export interface TemporalCluster {
  address: string;
  /** The Web UI as operators reach it (through the identity proxy). */
  uiUrl: string;
  /** The ui-server itself (no identity added): what an outsider without the proxy would reach. */
  uiServerUrl: string;
  jwksUrl: string;
  namespace: string;
  certs: ClusterCerts;
  issuer: LocalIssuer;
  tokenFiles: Record<TokenHolder, string>;
  processes: Record<ServerRole | 'ui-server', ManagedProcess>;
  /** Signs a token for the frontend with these permissions. */
  mint(permissions: string[], subject?: string, ttlSeconds?: number): Promise<string>;
  /** TEMPORAL_* variables of a worker or the API process (mTLS files, token file, address). */
  clientEnv(holder: 'worker' | 'api'): Record<string, string>;
  /** A connection presenting `cert` (or none) and `token` (or none). */
  connect(options: { cert?: ClientCertName | null; token?: string }): Promise<Connection>;
  stop(): Promise<void>;
}

export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const say = options.say ?? (() => undefined);
  const ttl = options.tokenTtlSeconds ?? 3600;
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const certs = ensureClusterCerts(path.join(options.dir, 'tls'));
  say(`certificates in ${certs.dir}`);

  const issuer = await loadOrCreateDevelopmentIssuer(options.issuerDir, {
    audience: serverEnvFile().TEMPORAL_JWT_AUDIENCE ?? 'temporal',
  });
  const mint = (permissions: string[], subject = 'cluster-operator', ttlSeconds = ttl) =>
    issuer.sign(subject, [], { expiresInSeconds: ttlSeconds, claims: { permissions } });
  const tokenDir = path.join(options.dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const permissions = TOKEN_PERMISSIONS(options.namespace);
  const tokenFiles = Object.fromEntries(
    Object.keys(permissions).map((who) => [who, path.join(tokenDir, `${who}.jwt`)]),
  ) as Record<TokenHolder, string>;
  const writeTokens = async () => {
    for (const [who, perms] of Object.entries(permissions) as Array<[TokenHolder, string[]]>) {
      const file = tokenFiles[who];
      writeFileSync(`${file}.tmp`, (await mint(perms, `backend-services-${who}`)) + '\n', { mode: 0o600 });
      renameSync(`${file}.tmp`, file); // atomic: a reader never sees half a token
      chmodSync(file, 0o600);
    }
  };
  await writeTokens();
  const renew = setInterval(() => void writeTokens().catch(() => undefined), (ttl * 1000) / 2);
  renew.unref();

  const jwks = await serveJwks(issuer);
  const cleanups: Array<() => Promise<void>> = [async () => clearInterval(renew), () => jwks.close()];

  // temporal-sql-tool under the name the admin script calls; the CLI beside it.
  const binDir = path.join(options.dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  for (const [name, target] of [
    ['temporal-sql-tool', options.binaries['sql-tool']],
    ['temporal', options.cli],
  ] as const) {
    const link = path.join(binDir, name);
    try {
      unlinkSync(link);
    } catch {
      // Not there yet.
    }
    symlinkSync(target, link);
  }
  const adminPath = `${binDir}${path.delimiter}${process.env.PATH ?? ''}`;
  const pg = options.postgres;

  say(`databases ${options.databases.temporal}, ${options.databases.visibility}: creating and migrating`);
  await run(
    'sh',
    [CLUSTER_FILES.adminScript, 'schema'],
    {
      PATH: adminPath,
      POSTGRES_SEEDS: pg.host,
      DB_PORT: String(pg.port),
      POSTGRES_USER: pg.user,
      SQL_PASSWORD: pg.password,
      DBNAME: options.databases.temporal,
      VISIBILITY_DBNAME: options.databases.visibility,
      TEMPORAL_SCHEMA_DIR: options.schemaDir,
    },
    'temporal-schema',
    options,
  );

  const ports = await clusterPorts(options.dir, options.frontendPort);
  const frontendPort = Number(ports.FRONTEND_GRPC_PORT);

  const serverEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...serverEnvFile(),
    ...serverEnvironment({
      postgres: pg,
      databases: options.databases,
      certs,
      ports,
      jwksUrl: jwks.url,
      logLevel: options.logLevel ?? 'warn',
    }),
  };
  const processes = {} as Record<ServerRole | 'ui-server', ManagedProcess>;
  for (const role of SERVER_ROLES) {
    const args = [...SERVER_CONFIG_ARGS, 'start'];
    for (const service of SERVER_SERVICES[role]) args.push('--service', service);
    processes[role] = managed(`temporal-${role}`, options.binaries.server, args, serverEnv, options);
  }
  const stopAll = async () => {
    for (const name of ['ui-server', 'worker', 'frontend', 'matching', 'history'] as const)
      await processes[name]?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    // History alone first: on a new database every process would race to write the cluster
    // metadata record, and the losers exit. Once history serves, the rest start together.
    processes.history.start();
    await waitForServing(processes.history, Number(ports.HISTORY_GRPC_PORT), 90_000);
    for (const role of ['matching', 'frontend', 'worker'] as const) processes[role].start();
    await waitForServing(processes.frontend, frontendPort, 90_000);
    say(`Temporal frontend listening on 127.0.0.1:${frontendPort} (mTLS + JWT)`);

    const address = `127.0.0.1:${frontendPort}`;
    const admin = await mint(permissions.admin, 'backend-services-admin', 600);
    await run(
      'sh',
      [CLUSTER_FILES.adminScript, 'namespace'],
      {
        PATH: adminPath,
        HOME: options.dir,
        ...setupEnvFile(),
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: options.namespace,
        TEMPORAL_TLS_CA: certs.ca,
        TEMPORAL_TLS_CERT: certs.clients.admin.cert,
        TEMPORAL_TLS_KEY: certs.clients.admin.key,
        TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
        TEMPORAL_API_KEY: admin,
      },
      'temporal-setup',
      options,
    );

    const connect: TemporalCluster['connect'] = async ({ cert, token }) =>
      Connection.connect({
        address,
        tls: {
          serverNameOverride: FRONTEND_SERVER_NAME,
          serverRootCACertificate: readFileSync(certs.ca),
          ...(cert
            ? {
                clientCertPair: {
                  crt: readFileSync(certs.clients[cert].cert),
                  key: readFileSync(certs.clients[cert].key),
                },
              }
            : {}),
        },
        ...(token ? { apiKey: token } : {}),
        connectTimeout: 10_000,
      });
    await waitForSearchAttributes(connect, options.namespace, await mint(permissions.admin, 'setup', 600));

    const uiServerPort = await freePort();
    const uiProxy = await identityProxy(options.uiPort ?? 0, uiServerPort, tokenFiles.ui);
    cleanups.push(() => uiProxy.close());
    const uiUrl = `http://localhost:${uiProxy.port}`;
    processes['ui-server'] = managed(
      'temporal-ui',
      options.binaries['ui-server'],
      [...UI_CONFIG_ARGS, 'start'],
      {
        PATH: process.env.PATH,
        ...uiEnvFile(),
        ...uiServerEnvironment({
          address,
          port: uiServerPort,
          publicUrl: uiUrl,
          namespace: options.namespace,
          certs,
        }),
      },
      options,
    );
    processes['ui-server'].start();
    await waitForPort(uiServerPort, '127.0.0.1', 30_000);

    return {
      address,
      uiUrl,
      uiServerUrl: `http://127.0.0.1:${uiServerPort}`,
      jwksUrl: jwks.url,
      namespace: options.namespace,
      certs,
      issuer,
      tokenFiles,
      processes,
      mint,
      connect,
      clientEnv(holder) {
        return {
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: options.namespace,
          TEMPORAL_TLS: 'true',
          TEMPORAL_TLS_CA_FILE: certs.ca,
          TEMPORAL_TLS_CERT_FILE: certs.clients[holder].cert,
          TEMPORAL_TLS_KEY_FILE: certs.clients[holder].key,
          TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
          TEMPORAL_API_KEY_FILE: tokenFiles[holder],
          TEMPORAL_UI_URL: uiUrl,
        };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Resolves once `port` accepts connections; fails at once if the process exits meanwhile. */
async function waitForServing(process: ManagedProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.exited) throw new Error(`${process.name} exited (${process.exited}) before serving`);
    if (await isPortBusy(port)) return;
    if (Date.now() > deadline)
      throw new Error(`${process.name} did not listen on ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForSearchAttributes(
  connect: TemporalCluster['connect'],
  namespace: string,
  token: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await connect({ cert: 'admin', token });
  try {
    await pollSearchAttributes(connection, namespace, {
      deadline,
      intervalMs: 500,
      timeoutMessage: 'the search attributes did not appear in time',
    });
  } finally {
    await connection.close();
  }
}
