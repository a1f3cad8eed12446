import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import type { FaultSystem } from './system.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The real worker process (worker/main.ts), configured through its environment the way an
 * operator would, on the fault system's task queue, database, Temporal server and stand-ins.
 * Resolves once it polls.
 */
export function spawnWorker(system: FaultSystem, databaseUrl = inject('databaseUrl')): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      APP_MODE: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: system.temporalAddress,
      TEMPORAL_TASK_QUEUE: system.taskQueue,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      SECRET_KEYS: `test:${system.secretKey.toString('base64')}`,
      SANDBOX_AIDBOX_URL: system.environments.sandbox.baseUrl,
      SANDBOX_AIDBOX_CLIENT_ID: system.environments.sandbox.clientId,
      SANDBOX_AIDBOX_CLIENT_SECRET: system.environments.sandbox.clientSecret,
      PRODUCTION_AIDBOX_URL: system.environments.production.baseUrl,
      PRODUCTION_AIDBOX_CLIENT_ID: system.environments.production.clientId,
      PRODUCTION_AIDBOX_CLIENT_SECRET: system.environments.production.clientSecret,
      PRODUCTION_ORGBAC: 'true',
    },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${output}`)));
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
