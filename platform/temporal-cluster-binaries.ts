import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { findGo, isExecutable } from './temporal-cli.js';

/**
 * The three programs of the production topology (`npm run cluster`, `npm run test:cluster`), built
 * from the same Go modules the compose images ship (deploy/versions.ts):
 *
 *   server      go.temporal.io/server/cmd/server            (temporal-server in the image)
 *   sql-tool    go.temporal.io/server/cmd/tools/sql         (temporal-sql-tool)
 *   ui-server   github.com/temporalio/ui-server/v2/cmd/server
 *
 * Each is looked up, in order: its own variable (TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH,
 * TEMPORAL_UI_SERVER_PATH); `<TEMPORAL_CLUSTER_BIN_DIR>/<name>/<binary>`, whose default is
 * `$(go env GOPATH)/temporal-cluster`. Missing ones are built there with `go install` (each into
 * its own GOBIN: two of them are called `server`). Without Go, it fails at once naming what to install.
 */
export const TEMPORAL_SERVER_MODULE_VERSION = '1.29.1';
export const TEMPORAL_UI_SERVER_MODULE_VERSION = '2.42.1';

export interface ClusterBinarySpec {
  name: 'server' | 'sql-tool' | 'ui-server';
  module: string;
  /** The file `go install` writes (the last element of the package path). */
  file: string;
  variable: 'TEMPORAL_SERVER_PATH' | 'TEMPORAL_SQL_TOOL_PATH' | 'TEMPORAL_UI_SERVER_PATH';
  /** Rough build time on a 2-core machine, for the progress line. */
  minutes: number;
}

export const CLUSTER_BINARIES: readonly ClusterBinarySpec[] = [
  {
    name: 'server',
    module: `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_MODULE_VERSION}`,
    file: 'server',
    variable: 'TEMPORAL_SERVER_PATH',
    minutes: 6,
  },
  {
    name: 'sql-tool',
    module: `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_MODULE_VERSION}`,
    file: 'sql',
    variable: 'TEMPORAL_SQL_TOOL_PATH',
    minutes: 2,
  },
  {
    name: 'ui-server',
    module: `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_SERVER_MODULE_VERSION}`,
    file: 'server',
    variable: 'TEMPORAL_UI_SERVER_PATH',
    minutes: 2,
  },
];

export type ClusterBinaries = Record<ClusterBinarySpec['name'], string>;

export class ClusterBinariesNotFound extends Error {
  override name = 'ClusterBinariesNotFound';
}

/** `TEMPORAL_CLUSTER_BIN_DIR`, else `$(go env GOPATH)/temporal-cluster`, else `~/go/temporal-cluster`. */
export function clusterBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_CLUSTER_BIN_DIR) return path.resolve(env.TEMPORAL_CLUSTER_BIN_DIR);
  const go = findGo(env);
  if (go) {
    const out = spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8', env });
    const gopath = (out.stdout ?? '').trim().split(path.delimiter)[0];
    if (gopath) return path.join(gopath, 'temporal-cluster');
  }
  return path.join(env.GOPATH?.split(path.delimiter)[0] ?? path.join(homedir(), 'go'), 'temporal-cluster');
}

function candidate(spec: ClusterBinarySpec, env: NodeJS.ProcessEnv, binDir: string): string {
  return env[spec.variable] ?? path.join(binDir, spec.name, spec.file);
}

/** Resolves without building; lists what is missing. */
export function findClusterBinaries(env: NodeJS.ProcessEnv = process.env): {
  found: Partial<ClusterBinaries>;
  missing: ClusterBinarySpec[];
  binDir: string;
} {
  const binDir = clusterBinDir(env);
  const found: Partial<ClusterBinaries> = {};
  const missing: ClusterBinarySpec[] = [];
  for (const spec of CLUSTER_BINARIES) {
    const file = candidate(spec, env, binDir);
    if (isExecutable(file)) found[spec.name] = file;
    else if (env[spec.variable])
      throw new ClusterBinariesNotFound(`${spec.variable}=${env[spec.variable]} is not an executable file.`);
    else missing.push(spec);
  }
  return { found, missing, binDir };
}

/** Resolves the three binaries, building the missing ones (minutes; progress through `progress`). */
export async function resolveClusterBinaries(
  env: NodeJS.ProcessEnv = process.env,
  progress: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Promise<ClusterBinaries> {
  const { found, missing, binDir } = findClusterBinaries(env);
  for (const spec of CLUSTER_BINARIES) {
    if (found[spec.name]) progress(`${spec.name}: ${found[spec.name]} (already built)`);
  }
  if (missing.length === 0) return found as ClusterBinaries;
  const go = findGo(env);
  if (!go) {
    throw new ClusterBinariesNotFound(
      `Missing: ${missing.map((s) => s.name).join(', ')}, and Go is not installed to build them.\n` +
        'Install Go (https://go.dev/doc/install; or set GO_BINARY to your go binary), then run ' +
        '`npm run cluster:build`; or build them elsewhere and point to them:\n' +
        missing.map((s) => `  ${s.variable}=…   # GOBIN=<dir> go install ${s.module}`).join('\n'),
    );
  }
  for (const spec of missing) {
    const gobin = path.join(binDir, spec.name);
    progress(`${spec.name}: building ${spec.module} into ${gobin} with ${go} (about ${spec.minutes} min)…`);
    await goInstall(go, spec, gobin, env, progress);
    const built = path.join(gobin, spec.file);
    if (!existsSync(built))
      throw new ClusterBinariesNotFound(`go install ${spec.module} finished but ${built} does not exist.`);
    found[spec.name] = built;
  }
  return found as ClusterBinaries;
}

function goInstall(
  go: string,
  spec: ClusterBinarySpec,
  gobin: string,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(go, ['install', '-v', spec.module], {
      env: { ...env, GOBIN: gobin, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let lastReport = Date.now();
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (!line.startsWith('go: downloading')) packages += 1;
      }
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        progress(
          `  ${spec.name}: ${packages} packages compiled, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        progress(`${spec.name}: built in ${Math.round((Date.now() - started) / 1000)} s.`);
        resolve();
      } else {
        reject(
          new ClusterBinariesNotFound(
            `go install ${spec.module} failed with exit code ${code}:\n${tail.join('\n')}`,
          ),
        );
      }
    });
  });
}

/**
 * The PostgreSQL schema files of the server release: shipped inside the server module
 * (`schema/postgresql/v12/{temporal,visibility}/versioned`). `TEMPORAL_SCHEMA_DIR` overrides.
 */
export function postgresSchemaDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_SCHEMA_DIR) return path.resolve(env.TEMPORAL_SCHEMA_DIR);
  const go = findGo(env);
  let modCache: string | undefined;
  if (go) {
    const out = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', env });
    modCache = (out.stdout ?? '').trim() || undefined;
  }
  modCache ??= path.join(env.GOPATH?.split(path.delimiter)[0] ?? path.join(homedir(), 'go'), 'pkg', 'mod');
  const dir = path.join(
    modCache,
    `go.temporal.io/server@v${TEMPORAL_SERVER_MODULE_VERSION}`,
    'schema',
    'postgresql',
    'v12',
  );
  if (!existsSync(path.join(dir, 'temporal', 'versioned')))
    throw new ClusterBinariesNotFound(
      `The schema files are not at ${dir} (they come with the server module: run npm run cluster:build, ` +
        'or set TEMPORAL_SCHEMA_DIR to a schema/postgresql/v12 folder).',
    );
  return dir;
}
