/**
 * bench:startup — `npm start` until its API answers /readyz with 200 (Temporal CLI already
 * resolved: the "cached" case), against the Temporal dev server alone started the same way
 * (file database, Web UI), alternating, on free ports and fresh data folders. Reported, no target.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase } from '../db/migrate.js';
import { DEFAULT_DATABASE_URL } from '../platform/config.js';
import { freePort } from '../platform/ports.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { startDevServer } from '../platform/temporal-dev-server.js';
import { benchArgs } from '../test-support/bench/args.js';
import { childEnv } from '../test-support/bench/environment.js';
import { printTable, printTargets, writeResults } from '../test-support/bench/report.js';
import { median, round } from '../test-support/bench/stats.js';

const { quick, count } = benchArgs();
const REPETITIONS = count ?? (quick ? 1 : 3);
const ROOT = path.resolve(import.meta.dirname, '..');

async function npmStartReadyMs(cliPath: string, databaseUrl: string): Promise<number> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-bench-start-'));
  const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...childEnv(),
      PORT: String(ports[0]),
      TEMPORAL_PORT: String(ports[1]),
      TEMPORAL_UI_PORT: String(ports[2]),
      SANDBOX_AIDBOX_PORT: String(ports[3]),
      PRODUCTION_AIDBOX_PORT: String(ports[4]),
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      TEMPORAL_CLI_PATH: cliPath,
      LOG_LEVEL: 'warn',
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const readyz = `http://127.0.0.1:${ports[0]}/readyz`;
    const ready = async () => (await fetch(readyz).catch(() => undefined))?.status === 200;
    while (!(await ready())) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (performance.now() - started > 180_000) throw new Error(`npm start not ready in 180 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return performance.now() - started;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function devServerReadyMs(cliPath: string): Promise<number> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-bench-temporal-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const server = await startDevServer({ cli: cliPath, port, uiPort, dbFile: path.join(dataDir, 'dev.db') });
  const ms = performance.now() - started;
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return ms;
}

const cli = await resolveTemporalCli();
if (cli.type !== 'path') throw new Error('bench:startup needs a Temporal CLI binary (see README)');
const base = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
base.pathname = `/bs_bench_startup_${process.pid}`;
const databaseUrl = base.toString();
const full: number[] = [];
const alone: number[] = [];
try {
  for (let i = 0; i < REPETITIONS; i += 1) {
    alone.push(await devServerReadyMs(cli.path));
    full.push(await npmStartReadyMs(cli.path, databaseUrl));
  }
} finally {
  await dropDatabase(databaseUrl).catch(() => undefined);
}
const ratio = median(full) / median(alone);
printTable(`Start-up (${REPETITIONS} repetitions each, alternating; CLI already resolved)`, [
  {
    what: 'Temporal dev server alone (file DB, UI)',
    'median s': round(median(alone) / 1000),
    'max s': round(Math.max(...alone) / 1000),
    ratio: 1,
  },
  {
    what: 'npm start until /readyz answers 200',
    'median s': round(median(full) / 1000),
    'max s': round(Math.max(...full) / 1000),
    ratio: round(ratio),
  },
]);
printTargets([
  {
    name: 'npm start ready (/readyz 200) vs the dev server alone (reported, no target)',
    met: true,
    detail: `×${round(ratio)}: ${round(median(full) / 1000)} s vs ${round(median(alone) / 1000)} s`,
  },
]);
writeResults('startup', { repetitions: REPETITIONS, npmStartMs: full, devServerMs: alone, ratio });
