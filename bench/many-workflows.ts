/**
 * bench:many-workflows — N open Backend Service workflows (5,000 by default; `--count`) on one
 * worker process with default settings (its cache sized from WORKER_MEMORY_BUDGET_MB's default by
 * worker/memory-plan.ts, as worker/main.ts does, and with its heap limits): its resident memory, and the latency of approve
 * (and submit) for a workflow in the worker's cache against one evicted from it (replayed from its
 * history). Targets: RSS ≤ 512 MiB; approval p99 out of cache ≤ 2 × in cache.
 * BENCH_WORKER_NODE_OPTIONS passes V8 flags to the worker alone, for experiments (README, "Missed
 * targets and why": the heap limit against the cache size).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { workerProcessEnv } from '../test-support/backend.js';
import { registration } from '../test-support/services.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { workerV8FlagsFromEnv } from '../worker/memory-plan.js';
import {
  approveUpdate,
  stateQuery,
  submitUpdate,
  workflowIdOf,
} from '../workflows/backend-service/messages.js';
import type { BackendServiceInput } from '../workflows/backend-service/inputs.js';
import { benchArgs } from '../test-support/bench/args.js';
import { childEnv, withBenchEnvironment, type BenchEnvironment } from '../test-support/bench/environment.js';
import { printTable, printTargets, writeResults } from '../test-support/bench/report.js';
import { closedLoop, median, p99, round, since } from '../test-support/bench/stats.js';

const { quick, count } = benchArgs();
const N = count ?? (quick ? 300 : 5_000);
const SAMPLE = quick ? 15 : 40;
const RSS_LIMIT_MIB = 512;
const ROOT = path.resolve(import.meta.dirname, '..');
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024, 1);
}
const rssMiB = (pid: number) => statusMiB(pid, 'VmRSS');
/** The highest resident memory the process has had (the kernel's high-water mark). */
const peakRssMiB = (pid: number) => statusMiB(pid, 'VmHWM');

/** The worker with its default cache (test-support/bench/worker-entry.ts). */
function spawnWorker(
  env: BenchEnvironment,
  taskQueue: string,
  bundlePath: string,
): Promise<ChildProcess & { cache: number; flags: string }> {
  // As npm start launches a worker: the heap limits of its memory budget (worker/memory-plan.ts),
  // unless BENCH_WORKER_NODE_OPTIONS sets V8 flags of an experiment's own.
  const flags = process.env.BENCH_WORKER_NODE_OPTIONS ? [] : workerV8FlagsFromEnv();
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'test-support/bench/worker-entry.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...childEnv(),
      ...workerProcessEnv(
        env,
        { databaseUrl: env.databaseUrl, temporalAddress: env.temporal.address, taskQueue, bundlePath },
        JSON.stringify(env.commandKeys.verifyKeys),
      ),
      LOG_LEVEL: 'warn',
      // An experiment's V8 flags for the worker alone (e.g. --max-old-space-size=160).
      ...(process.env.BENCH_WORKER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS }
        : {}),
      // BENCH_TEMPORAL=cluster: the cluster's mTLS files and token file (nothing on the dev server).
      ...env.temporal.clientEnv,
    },
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const polling = /worker polling cache=(\d+)/.exec(d.toString());
      if (polling)
        resolve(
          Object.assign(child, {
            cache: Number(polling[1]),
            flags: process.env.BENCH_WORKER_NODE_OPTIONS ?? flags.join(' '),
          }),
        );
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited (${code})`)));
  });
}

async function stopWorker(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function readyIds(env: BenchEnvironment, ids: string[]): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from backend_services
    where id = any(${ids}) and state->'sandbox'->>'state' = 'ready'`.execute(env.db);
  return Number(rows[0]!.n);
}

async function submit(env: BenchEnvironment, id: string): Promise<{ ms: number; policyHash: string }> {
  const handle = env.client.workflow.getHandle(workflowIdOf(id));
  const t = performance.now();
  await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
  const ms = since(t);
  // Asked right away, while the workflow is still cached: a query later would load it back.
  const policyHash = (await handle.query(stateQuery)).submission!.productionPolicies.policyHash;
  return { ms, policyHash };
}

async function approve(env: BenchEnvironment, id: string, policyHash: string): Promise<number> {
  const handle = env.client.workflow.getHandle(workflowIdOf(id));
  const t = performance.now();
  await handle.executeUpdate(approveUpdate, { args: [{ actor: bob, revision: 1, policyHash }] });
  return since(t);
}

async function startAll(env: BenchEnvironment, taskQueue: string, ids: string[], label: string) {
  await closedLoop(ids.length, 32, async (i) => {
    const input: BackendServiceInput = {
      serviceId: ids[i]!,
      ownerId: 'alice',
      registration: registration({ type: 'client_secret' }),
      createdAt: new Date().toISOString(),
    };
    await env.client.workflow.start('backendService', {
      workflowId: workflowIdOf(ids[i]!),
      taskQueue,
      args: [input],
    });
  });
  let ready = 0;
  while ((ready = await readyIds(env, ids)) < ids.length) {
    process.stdout.write(`\r${label}: ${ready}/${ids.length} set up (sandbox ready)…`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  process.stdout.write(`\r${label}: ${ids.length}/${ids.length} set up\n`);
}

await withBenchEnvironment('many', {}, async (env) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-bench-'));
  const bundlePath = path.join(scratch, 'bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflows()).code);
  const taskQueue = `bench-many-${randomUUID()}`;
  const worker = await spawnWorker(env, taskQueue, bundlePath);
  try {
    const idleRss = rssMiB(worker.pid!);
    if (N <= worker.cache + 2 * SAMPLE)
      throw new Error(
        `--count must exceed the cache (${worker.cache}) by ${2 * SAMPLE}: nothing would be evicted`,
      );
    const ids = Array.from({ length: N }, (_, i) => `bs-m${i.toString(36)}${randomUUID().slice(0, 6)}`);
    // Out of cache: the first SAMPLE are submitted while cached, then the rest of the fleet is set
    // up (N − SAMPLE workflows, far more than the cache holds), which evicts them; their approvals
    // replay. The next SAMPLE are submitted only after that: their submits replay.
    const evictedApprove = ids.slice(0, SAMPLE);
    const evictedSubmit = ids.slice(SAMPLE, 2 * SAMPLE);
    const cached = ids.slice(-SAMPLE);
    const t0 = performance.now();
    await startAll(env, taskQueue, evictedApprove, 'first sample');
    const hashes = new Map<string, string>();
    for (const id of evictedApprove) hashes.set(id, (await submit(env, id)).policyHash);
    await startAll(env, taskQueue, ids.slice(SAMPLE), 'the fleet');
    const setupSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3_000));
    const fullRss = rssMiB(worker.pid!);

    const outOfCache = { submit: [] as number[], approve: [] as number[] };
    for (const id of evictedApprove) outOfCache.approve.push(await approve(env, id, hashes.get(id)!));
    for (const id of evictedSubmit) outOfCache.submit.push((await submit(env, id)).ms);
    // In cache: the newest set up, each submitted then approved while cached.
    const inCache = { submit: [] as number[], approve: [] as number[] };
    for (const id of cached) {
      const submitted = await submit(env, id);
      inCache.submit.push(submitted.ms);
      hashes.set(id, submitted.policyHash);
    }
    for (const id of cached) inCache.approve.push(await approve(env, id, hashes.get(id)!));
    const afterRss = rssMiB(worker.pid!);
    const peakRss = peakRssMiB(worker.pid!);

    const row = (what: string, samples: { submit: number[]; approve: number[] }) => ({
      case: what,
      'submit median ms': round(median(samples.submit), 1),
      'submit p99 ms': round(p99(samples.submit), 1),
      'approve median ms': round(median(samples.approve), 1),
      'approve p99 ms': round(p99(samples.approve), 1),
    });
    printTable(
      `Update latency with ${N} open workflows, cache ${worker.cache} (default), ${SAMPLE} services per case, one at a time`,
      [row('in cache', inCache), row('out of cache (replayed)', outOfCache)],
    );
    printTable('Worker resident memory (MiB)', [
      {
        worker: `cache ${worker.cache} (WORKER_MEMORY_BUDGET_MB default)`,
        'idle at start': idleRss,
        [`${N} workflows set up`]: fullRss,
        'after the samples': afterRss,
        peak: peakRss,
        'V8 flags': worker.flags,
      },
    ]);
    printTable('Fleet set-up', [
      { workflows: N, seconds: round(setupSeconds, 1), 'set-ups/s': round(N / setupSeconds, 1) },
    ]);
    const ratio = p99(outOfCache.approve) / p99(inCache.approve);
    const maxRss = Math.max(fullRss, afterRss, peakRss);
    printTargets([
      {
        name: `worker RSS ≤ ${RSS_LIMIT_MIB} MiB with ${N} open workflows (default cache)`,
        met: maxRss <= RSS_LIMIT_MIB,
        detail: `peak ${peakRss}, set up ${fullRss}, after samples ${afterRss} MiB; cache ${worker.cache}`,
      },
      {
        name: 'approval p99 out of cache ≤ 2 × in cache',
        met: ratio <= 2,
        detail: `${round(p99(outOfCache.approve), 1)} vs ${round(p99(inCache.approve), 1)} ms = ×${round(ratio)}`,
      },
    ]);
    writeResults('many-workflows', {
      n: N,
      cache: worker.cache,
      sample: SAMPLE,
      setupSeconds,
      rss: { idleRss, fullRss, afterRss, peakRss },
      inCache,
      outOfCache,
      ratio,
    });
  } finally {
    await stopWorker(worker).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
});
