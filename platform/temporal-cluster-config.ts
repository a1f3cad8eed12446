import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterCerts } from './cluster-certs.js';

/**
 * What the Temporal cluster of `npm run cluster` shares with docker-compose.yml: the files under
 * deploy/temporal/, the server roles and their services, the variables each process gets beyond
 * those files, and who holds which token (deploy/cluster.test.ts checks that both agree).
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
