import type { ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { spawnWorkerProcess } from '../worker-process.js';
import type { TestSystem } from '../system.js';

/** The real worker process on the fault system's task queue, database, Temporal server and stand-ins. */
export function spawnWorker(system: TestSystem, databaseUrl = inject('databaseUrl')): Promise<ChildProcess> {
  return spawnWorkerProcess({
    taskQueue: system.taskQueue,
    temporalAddress: system.temporalAddress,
    databaseUrl,
    secretKey: system.secretKey,
    environments: system.environments,
  });
}

/** SIGKILL and wait until the process is gone (no graceful shutdown: a crash). */
export async function killWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Soak mode (SOAK=1): bigger numbers, longer runs. */
export const SOAK = process.env.SOAK === '1';
