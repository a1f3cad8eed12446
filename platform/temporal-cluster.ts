import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadOrCreateDevelopmentIssuer, type LocalIssuer } from '../api/auth/local-issuer.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import {
  ensureClusterCerts,
  FRONTEND_SERVER_NAME,
  type ClientCertName,
  type ClusterCerts,
} from './cluster-certs.js';
import { freePort, isPortBusy, waitForPort } from './ports.js';
import { killGroup, type Supervised } from './supervisor.js';
import type { ClusterBinaries } from './temporal-cluster-binaries.js';

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
export const ROOT = path.resolve(import.meta.dirname, '..');
export const DEPLOY_TEMPORAL = path.join(ROOT, 'deploy', 'temporal');
export const SERVER_ROLES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** Parses a KEY=value file (comments and blank lines skipped), as compose's env_file does. */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${file}: not KEY=value: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The files under deploy/ the cluster shares with docker-compose.yml. */
export const CLUSTER_FILES = {
  serverConfig: path.join(DEPLOY_TEMPORAL, 'config', 'production.yaml'),
  dynamicConfig: path.join(DEPLOY_TEMPORAL, 'dynamicconfig.yaml'),
  serverEnv: path.join(DEPLOY_TEMPORAL, 'server.env'),
  setupEnv: path.join(DEPLOY_TEMPORAL, 'setup.env'),
  uiEnv: path.join(DEPLOY_TEMPORAL, 'ui.env'),
  uiConfig: path.join(DEPLOY_TEMPORAL, 'ui', 'production.yaml'),
  adminScript: path.join(ROOT, 'deploy', 'temporal-admin.sh'),
} as const;
/** `--root DEPLOY_TEMPORAL --config <dir> --env production` names these files. */
export const SERVER_CONFIG_ARGS = ['--root', DEPLOY_TEMPORAL, '--config', 'config', '--env', 'production'];
export const UI_CONFIG_ARGS = ['--root', DEPLOY_TEMPORAL, '--config', 'ui', '--env', 'production'];

export const serverEnvFile = () => readEnvFile(CLUSTER_FILES.serverEnv);
export const setupEnvFile = () => readEnvFile(CLUSTER_FILES.setupEnv);
export const uiEnvFile = () => readEnvFile(CLUSTER_FILES.uiEnv);

/**
 * What the cluster gives each server process beyond deploy/temporal/server.env (deploy/cluster.test.ts
 * checks that neither this nor compose overrides a key of server.env, and that both provide every
 * variable the config template needs).
 */
export function serverEnvironment(input: {
  postgres: ClusterPostgres;
  databases: { temporal: string; visibility: string };
  certs: Pick<ClusterCerts, 'ca' | 'frontend' | 'internode'>;
  ports: Record<string, string>;
  jwksUrl: string;
  logLevel: string;
}): Record<string, string> {
  return {
    ...input.ports,
    TEMPORAL_LOG_LEVEL: input.logLevel,
    BIND_ON_IP: '127.0.0.1',
    POSTGRES_SEEDS: input.postgres.host,
    DB_PORT: String(input.postgres.port),
    POSTGRES_USER: input.postgres.user,
    POSTGRES_PWD: input.postgres.password,
    DBNAME: input.databases.temporal,
    VISIBILITY_DBNAME: input.databases.visibility,
    DYNAMIC_CONFIG_FILE_PATH: CLUSTER_FILES.dynamicConfig,
    TEMPORAL_TLS_CA: input.certs.ca,
    TEMPORAL_TLS_FRONTEND_CERT: input.certs.frontend.cert,
    TEMPORAL_TLS_FRONTEND_KEY: input.certs.frontend.key,
    TEMPORAL_TLS_INTERNODE_CERT: input.certs.internode.cert,
    TEMPORAL_TLS_INTERNODE_KEY: input.certs.internode.key,
    TEMPORAL_JWT_KEY_SOURCE: input.jwksUrl,
  };
}

/** What the cluster gives the Web UI server beyond deploy/temporal/ui.env. */
export function uiServerEnvironment(input: {
  address: string;
  port: number;
  publicUrl: string;
  namespace: string;
  certs: Pick<ClusterCerts, 'ca' | 'clients'>;
}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: input.address,
    TEMPORAL_UI_HOST: '127.0.0.1',
    TEMPORAL_UI_PORT: String(input.port),
    TEMPORAL_UI_PUBLIC_URL: input.publicUrl,
    TEMPORAL_DEFAULT_NAMESPACE: input.namespace,
    TEMPORAL_CSRF_COOKIE_INSECURE: 'true', // plain http on localhost
    TEMPORAL_TLS_CA: input.certs.ca,
    TEMPORAL_TLS_CERT: input.certs.clients.ui.cert,
    TEMPORAL_TLS_KEY: input.certs.clients.ui.key,
  };
}

/** The services of each server process: `frontend` also runs internal-frontend (the server worker's entry). */
export const SERVER_SERVICES: Record<ServerRole, string[]> = {
  frontend: ['frontend', 'internal-frontend'],
  history: ['history'],
  matching: ['matching'],
  worker: ['worker'],
};

export interface ClusterPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function postgresFromUrl(url: string): ClusterPostgres {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: decodeURIComponent(parsed.password),
  };
}

export interface ClusterOptions {
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
  /** Each process's output lines. */
  output?: (name: string, line: string) => void;
  /** A process that ended without being asked to. */
  onUnexpectedExit?: (name: string, code: number | null, signal: string | null) => void;
  say?: (line: string) => void;
}

/** Who holds which token (claims of Temporal's default JWT claim mapper). */
export const TOKEN_PERMISSIONS = (
  namespace: string,
): Record<'worker' | 'api' | 'ui' | 'admin', string[]> => ({
  worker: [`${namespace}:write`],
  api: [`${namespace}:write`],
  ui: [`${namespace}:read`],
  admin: ['temporal-system:admin'],
});
export type TokenHolder = keyof ReturnType<typeof TOKEN_PERMISSIONS>;

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** How the last run ended (`code 1`, `SIGKILL`), while it is not running; undefined while it runs. */
  readonly exited: string | undefined;
  start(): void;
  /** Signals the process group; the exit counts as expected. Resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
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

function managed(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: ClusterOptions,
  cwd?: string,
): ManagedProcess {
  let current: Supervised | undefined;
  let expected = false;
  let exited: string | undefined;
  const output = options.output ?? (() => undefined);
  const start = () => {
    expected = false;
    // As supervise() (platform/supervisor.ts) does, in its own group; output goes through `output`.
    const child = spawn(command, args, {
      env: { ...env, EXIT_WITH_PARENT: 'true' },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) output(name, line);
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    current = { name, child, stop: () => killGroup(child, 8_000) };
    exited = undefined;
    child.once('exit', (code, signal) => {
      exited = signal ?? `code ${code}`;
      if (!expected) options.onUnexpectedExit?.(name, code, signal);
    });
  };
  return {
    name,
    get pid() {
      return current?.child.pid;
    },
    get exited() {
      return exited;
    },
    start,
    async kill(signal = 'SIGKILL') {
      expected = true;
      const child = current?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
      await exited;
    },
    async stop() {
      expected = true;
      await current?.stop();
    },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, name: string, options: ClusterOptions) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) options.output?.(name, line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${name} failed (exit ${code}):\n${out.slice(-3000)}`)),
    );
  });
}

/** A JWKS endpoint on 127.0.0.1 with the development issuer's public keys (the server's key source). */
function serveJwks(issuer: LocalIssuer): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(issuer.jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/**
 * Stands for the operators' SSO proxy in front of the Web UI: forwards every request to the
 * ui-server with `Authorization: Bearer <token>` (the UI's `<namespace>:read` token, read from its
 * file at each request so renewals apply), which the ui-server passes on to the frontend.
 */
function identityProxy(
  publicPort: number,
  target: number,
  tokenFile: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
    headers.host = `127.0.0.1:${target}`;
    const upstream = http.request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(publicPort, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
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

  const ports = await clusterPorts(options);
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

const PORT_VARIABLES = [
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'INTERNAL_FRONTEND_GRPC_PORT',
  'INTERNAL_FRONTEND_HTTP_PORT',
  'INTERNAL_FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

/**
 * The server processes' ports: free ones, remembered in `<dir>/ports.json` and reused at the next
 * start while they are free, so a restarted cluster has the addresses its membership table records
 * (Temporal forgets departed hosts only after a while).
 */
async function clusterPorts(options: ClusterOptions): Promise<Record<string, string>> {
  const file = path.join(options.dir, 'ports.json');
  let saved: Record<string, string> = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // First start.
  }
  const ports: Record<string, string> = {};
  const taken = new Set<number>();
  const frontend = options.frontendPort || Number(saved.FRONTEND_GRPC_PORT) || (await freePort());
  ports.FRONTEND_GRPC_PORT = String(frontend);
  taken.add(frontend);
  for (const variable of PORT_VARIABLES) {
    const previous = Number(saved[variable]);
    const low = variable.endsWith('MEMBERSHIP_PORT');
    let port: number;
    if (previous && !taken.has(previous) && !(await isPortBusy(previous))) port = previous;
    // Temporal stores membership ports as a PostgreSQL smallint: below 32768, then.
    else port = low ? await freeLowPort(taken) : await freePort();
    taken.add(port);
    ports[variable] = String(port);
  }
  writeFileSync(file, JSON.stringify(ports, null, 2) + '\n');
  return ports;
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

/** A free port in 20000–32767 (cluster_membership.rpc_port is a smallint). */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_700);
    if (!taken.has(port) && !(await isPortBusy(port))) return port;
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
    for (;;) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        if (SEARCH_ATTRIBUTES.every((key) => customAttributes?.[key.name] !== undefined)) return;
      } catch {
        // The namespace may not have reached every frontend's cache yet.
      }
      if (Date.now() > deadline) throw new Error('the search attributes did not appear in time');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}
