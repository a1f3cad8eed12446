import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Finds the Temporal CLI (which embeds the dev server) for scripts and tests, in the order of
 * docs/architecture.md ("The Temporal CLI binary"):
 *   1. TEMPORAL_CLI_PATH
 *   2. `temporal` on PATH
 *   3. the Go-installed binary ($GOBIN, else $(go env GOPATH)/bin, else ~/go/bin)
 *   4. `go install` of the pinned module when Go exists (takes minutes; progress is printed)
 *   5. the SDK's own download, only when TEMPORAL_ALLOW_SDK_DOWNLOAD=true (it fails on machines that
 *      reach only package registries)
 * Otherwise it fails at once saying what to install.
 */

/** Later tags carry a `replace` directive and cannot be `go install`ed. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
/** Go's standard install location; override with GO_BINARY. */
export const DEFAULT_GO_BINARY = '/usr/local/go/bin/go';

export type TemporalCli = { type: 'path'; path: string } | { type: 'sdk-download' };

export class TemporalCliNotFound extends Error {
  override name = 'TemporalCliNotFound';
}

/** An existing file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GO_BINARY) return isExecutable(env.GO_BINARY) ? env.GO_BINARY : undefined;
  return onPath('go', env) ?? (isExecutable(DEFAULT_GO_BINARY) ? DEFAULT_GO_BINARY : undefined);
}

function goBinDir(go: string | undefined, env: NodeJS.ProcessEnv): string {
  if (env.GOBIN) return env.GOBIN;
  if (go) {
    const out = spawnSync(go, ['env', 'GOBIN', 'GOPATH'], { encoding: 'utf8', env });
    const [gobin, gopath] = (out.stdout ?? '').split('\n');
    if (gobin) return gobin;
    if (gopath) return path.join(gopath.split(path.delimiter)[0]!, 'bin');
  }
  return path.join(env.GOPATH?.split(path.delimiter)[0] ?? path.join(homedir(), 'go'), 'bin');
}

/** Resolves without building anything; undefined when a build (or download) would be needed. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new TemporalCliNotFound(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file.`);
    }
    return env.TEMPORAL_CLI_PATH;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const installed = path.join(goBinDir(findGo(env), env), 'temporal');
  return existsSync(installed) && isExecutable(installed) ? installed : undefined;
}

/** Resolves the CLI, building it with `go install` when needed. */
export async function resolveTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  progress: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Promise<TemporalCli> {
  const found = findTemporalCli(env);
  if (found) return { type: 'path', path: found };
  const go = findGo(env);
  if (go) {
    progress(
      `Temporal CLI not found: building ${TEMPORAL_CLI_MODULE} with ${go} (this takes several minutes, once)…`,
    );
    await goInstall(go, env, progress);
    const built = findTemporalCli(env);
    if (built) return { type: 'path', path: built };
    throw new TemporalCliNotFound(
      `go install finished but no temporal binary appeared in ${goBinDir(go, env)}.`,
    );
  }
  if (env.TEMPORAL_ALLOW_SDK_DOWNLOAD === 'true') return { type: 'sdk-download' };
  throw new TemporalCliNotFound(
    'The Temporal CLI was not found and Go is not installed to build it.\n' +
      `Install Go (https://go.dev/doc/install) and run: go install ${TEMPORAL_CLI_MODULE}\n` +
      'or set TEMPORAL_CLI_PATH to an existing temporal binary (or GO_BINARY to your go binary).',
  );
}

function goInstall(go: string, env: NodeJS.ProcessEnv, progress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // -x would be too noisy; -v prints each package as it compiles, which is the progress people want.
    const child = spawn(go, ['install', '-v', TEMPORAL_CLI_MODULE], {
      env: { ...env, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let lastReport = 0;
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        if (line.startsWith('go: downloading')) progress(line);
        else packages += 1;
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          progress(`  …${packages} packages compiled, ${Math.round((Date.now() - started) / 1000)} s`);
        }
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        progress(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s.`);
        resolve();
      } else
        reject(new TemporalCliNotFound(`go install ${TEMPORAL_CLI_MODULE} failed with exit code ${code}.`));
    });
  });
}
