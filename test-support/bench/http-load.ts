import { spawn } from 'node:child_process';
import path from 'node:path';

const LOAD = path.join(import.meta.dirname, 'load.mjs');

export interface LoadResult {
  requests: number;
  /** Requests answered per second over the run. */
  perSecond: number;
  latency: { median: number; p99: number; mean: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/**
 * `seconds` of requests over `connections` keep-alive connections, each to a random one of `paths`,
 * from autocannon in a child process (test-support/bench/load.mjs). Fails when any answer was not 2xx.
 */
export async function httpLoad(options: {
  url: string;
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}): Promise<LoadResult> {
  const child = spawn(process.execPath, [LOAD, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const result = JSON.parse(output) as LoadResult;
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(
      `${options.paths[0]}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return result;
}
