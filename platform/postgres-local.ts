import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, chownSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from './config.js';

/**
 * Where `npm start` gets PostgreSQL (docs/architecture.md, "Real components"):
 * DATABASE_URL, else the default local server, else a private cluster made with initdb/pg_ctl in
 * the gitignored data folder. initdb and pg_ctl refuse to run as root, so as root the private
 * cluster runs as the unprivileged `postgres` user (PRIVATE_PG_USER) when it exists.
 */

export interface PostgresChoice {
  url: string;
  source: 'DATABASE_URL' | 'default' | 'private-cluster';
  stop?: () => void;
}

export async function canConnect(url: string, timeoutMs = 2_000): Promise<boolean> {
  const target = new URL(url);
  target.pathname = '/postgres';
  const client = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Standard Debian location as an overridable default (PG_BIN_DIR). */
export function findPgBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PG_BIN_DIR) return env.PG_BIN_DIR;
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && existsSync(path.join(pgConfig.stdout.trim(), 'initdb')))
    return pgConfig.stdout.trim();
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

export async function choosePostgres(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: (line: string) => void,
): Promise<PostgresChoice> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL' };
  if (await canConnect(DEFAULT_DATABASE_URL)) return { url: DEFAULT_DATABASE_URL, source: 'default' };
  log(`No PostgreSQL at ${new URL(DEFAULT_DATABASE_URL).host}; starting a private cluster in ${dataDir}`);
  return startPrivateCluster(env, dataDir, Number(env.PRIVATE_PG_PORT ?? 54329));
}

export function startPrivateCluster(env: NodeJS.ProcessEnv, dataDir: string, port: number): PostgresChoice {
  const bin = findPgBinDir(env);
  if (!bin) {
    throw new Error(
      'No PostgreSQL reachable and no initdb found to make a private cluster. Install PostgreSQL ' +
        '(Debian: apt-get install postgresql) or set DATABASE_URL, or PG_BIN_DIR to the folder holding initdb.',
    );
  }
  const asRoot = process.getuid?.() === 0;
  const user = env.PRIVATE_PG_USER ?? 'postgres';
  let runAs: string[] = [];
  if (asRoot) {
    const hasUser = spawnSync('id', ['-u', user]).status === 0;
    if (!hasUser) {
      throw new Error(
        `initdb and pg_ctl refuse to run as root, and the unprivileged user '${user}' does not exist. ` +
          'Create one (useradd) and set PRIVATE_PG_USER, or set DATABASE_URL to an existing server.',
      );
    }
    runAs = ['runuser', '-u', user, '--'];
  }
  const run = (command: string, args: string[]) => {
    const full = [...runAs, path.join(bin, command), ...args];
    execFileSync(full[0]!, full.slice(1), { stdio: 'pipe' });
  };
  mkdirSync(dataDir, { recursive: true });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
    chownSync(dataDir, uid, gid);
  }
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8']);
  }
  run('pg_ctl', [
    '-D',
    dataDir,
    '-l',
    path.join(dataDir, 'server.log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir}`,
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/backend_services`,
    source: 'private-cluster',
    stop: () => run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']),
  };
}
