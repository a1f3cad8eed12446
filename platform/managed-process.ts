import { spawn } from 'node:child_process';
import { killGroup, type Supervised } from './supervisor.js';

/**
 * The processes of the Temporal cluster (platform/temporal-cluster.ts): long-running ones that can
 * be stopped, killed and started again (crash tests do), and one-shot commands that must succeed.
 */

export interface ProcessEvents {
  /** Each process's output lines. */
  output?: (name: string, line: string) => void;
  /** A process that ended without being asked to. */
  onUnexpectedExit?: (name: string, code: number | null, signal: string | null) => void;
}

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

export function managed(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: ProcessEvents,
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

export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  name: string,
  options: ProcessEvents,
) {
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
