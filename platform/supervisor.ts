import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Child processes of `npm start`: labelled output, ordered shutdown, nothing left behind. */
export interface Supervised {
  name: string;
  child: ChildProcess;
  stop(graceMs?: number): Promise<void>;
}

export function prefixOutput(
  name: string,
  stream: NodeJS.ReadableStream | null,
  out: NodeJS.WritableStream,
): void {
  if (!stream) return;
  const label = `[${name}]`.padEnd(20);
  createInterface({ input: stream }).on('line', (line) => out.write(`${label} ${line}\n`));
}

export function supervise(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onUnexpectedExit: (name: string, code: number | null, signal: string | null) => void,
): Supervised {
  const child = spawn(command, args, {
    env: { ...env, EXIT_WITH_PARENT: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only the orchestrator, which stops children in order.
    detached: true,
  });
  prefixOutput(name, child.stdout, process.stdout);
  prefixOutput(name, child.stderr, process.stderr);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) onUnexpectedExit(name, code, signal);
  });
  return {
    name,
    child,
    stop(graceMs = 8_000) {
      stopping = true;
      return killGroup(child, graceMs);
    },
  };
}

/** SIGTERM to the child's whole process group, SIGKILL after the grace period. */
export function killGroup(child: ChildProcess, graceMs = 8_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const pid = child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      // Anything the child itself started in its group goes too.
      signalGroup('SIGKILL');
      resolve();
    });
    signalGroup('SIGTERM');
  });
}
