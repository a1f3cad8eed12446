/**
 * bench:many-workflows — N open Backend Service workflows (5,000 by default; `--count`) on one
 * worker process: its resident memory, and the latency of submit and approve when the workflow is
 * in the worker's cache vs out of it (a cache far smaller than the fleet: every update replays).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { registration } from '../test-support/services.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import {
  approveUpdate,
  stateQuery,
  submitUpdate,
  workflowIdOf,
} from '../workflows/backend-service/messages.js';
import type { BackendServiceInput } from '../workflows/backend-service/types.js';
import { benchArgs } from './support/args.js';
import { withBenchEnvironment, type BenchEnvironment } from './support/environment.js';
import { printTable, printTargets, writeResults } from './support/report.js';
import { closedLoop, median, p99, round, since } from './support/stats.js';

const { quick, count } = benchArgs();
const N = count ?? (quick ? 300 : 5_000);
const SAMPLE = quick ? 15 : 40;
const SMALL_CACHE = 10;
const ROOT = path.resolve(import.meta.dirname, '..');
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024, 1);
}

/** `cache` undefined: the SDK default, as the product's worker runs (~1 MiB per cached workflow, so not the whole fleet). */
function spawnWorker(
  env: BenchEnvironment,
  taskQueue: string,
  bundlePath: string,
  cache?: number,
): Promise<ChildProcess & { cache: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/worker-entry.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      APP_MODE: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporal.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      ...(cache ? { MAX_CACHED_WORKFLOWS: String(cache) } : {}),
      SECRET_KEYS: `bench:${env.secretKey.toString('base64')}`,
      COMMAND_VERIFY_KEYS: JSON.stringify(env.commandKeys.verifyKeys),
      SANDBOX_AIDBOX_URL: env.environments.sandbox.baseUrl,
      SANDBOX_AIDBOX_CLIENT_ID: 'root',
      SANDBOX_AIDBOX_CLIENT_SECRET: env.environments.sandbox.clientSecret,
      PRODUCTION_AIDBOX_URL: env.environments.production.baseUrl,
      PRODUCTION_AIDBOX_CLIENT_ID: 'root',
      PRODUCTION_AIDBOX_CLIENT_SECRET: env.environments.production.clientSecret,
      PRODUCTION_ORGBAC: 'true',
    },
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const polling = /worker polling cache=(\d+)/.exec(d.toString());
      if (polling) resolve(Object.assign(child, { cache: Number(polling[1]) }));
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited (${code})`)));
  });
}

async function stopWorker(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function readyCount(env: BenchEnvironment): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from backend_services where state->'sandbox'->>'state' = 'ready'`.execute(env.db);
  return Number(rows[0]!.n);
}

/** Submit every sampled service, then approve every one: with a cache smaller than the sample, each update finds its workflow evicted. */
async function measureUpdates(env: BenchEnvironment, ids: string[]) {
  const submit: number[] = [];
  const approve: number[] = [];
  const hashes = new Map<string, string>();
  for (const id of ids) {
    const handle = env.client.workflow.getHandle(workflowIdOf(id));
    const t = performance.now();
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    submit.push(since(t));
  }
  for (const id of ids)
    hashes.set(
      id,
      (await env.client.workflow.getHandle(workflowIdOf(id)).query(stateQuery)).submission!.productionPolicies
        .policyHash,
    );
  for (const id of ids) {
    const handle = env.client.workflow.getHandle(workflowIdOf(id));
    const t = performance.now();
    await handle.executeUpdate(approveUpdate, {
      args: [{ actor: bob, revision: 1, policyHash: hashes.get(id)! }],
    });
    approve.push(since(t));
  }
  return { submit, approve };
}

await withBenchEnvironment('many', {}, async (env) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-bench-'));
  const bundlePath = path.join(scratch, 'bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflows()).code);
  const taskQueue = `bench-many-${randomUUID()}`;
  let worker = await spawnWorker(env, taskQueue, bundlePath);
  const largeCache = worker.cache;
  try {
    const idleRss = rssMiB(worker.pid!);
    const ids = Array.from({ length: N }, (_, i) => `bs-m${i.toString(36)}${randomUUID().slice(0, 6)}`);
    const t0 = performance.now();
    await closedLoop(N, 32, async (i) => {
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
    while ((ready = await readyCount(env)) < N) {
      process.stdout.write(`\r${ready}/${N} services set up (sandbox ready)…`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const setupSeconds = (performance.now() - t0) / 1000;
    process.stdout.write(`\r${N}/${N} services set up in ${round(setupSeconds, 1)} s\n`);
    await new Promise((r) => setTimeout(r, 3_000));
    const fullRss = rssMiB(worker.pid!);

    // In cache: the sampled workflows touched (queried) just before, so the LRU cache holds them.
    for (const id of ids.slice(0, SAMPLE))
      await env.client.workflow.getHandle(workflowIdOf(id)).query(stateQuery);
    const inCache = await measureUpdates(env, ids.slice(0, SAMPLE));
    const afterInCacheRss = rssMiB(worker.pid!);

    // Out of cache: a fresh worker with a cache far smaller than the sample.
    await stopWorker(worker);
    worker = await spawnWorker(env, taskQueue, bundlePath, SMALL_CACHE);
    const smallIdleRss = rssMiB(worker.pid!);
    const outOfCache = await measureUpdates(env, ids.slice(SAMPLE, 2 * SAMPLE));
    const smallRss = rssMiB(worker.pid!);

    const row = (what: string, cache: number, samples: { submit: number[]; approve: number[] }) => ({
      case: what,
      maxCachedWorkflows: cache,
      'submit median ms': round(median(samples.submit), 1),
      'submit p99 ms': round(p99(samples.submit), 1),
      'approve median ms': round(median(samples.approve), 1),
      'approve p99 ms': round(p99(samples.approve), 1),
    });
    printTable(
      `Approval latency with ${N} open workflows (${SAMPLE} services each; every submit, then every approve)`,
      [row('in cache', largeCache, inCache), row('out of cache (replay)', SMALL_CACHE, outOfCache)],
    );
    const ratio = median(outOfCache.approve) / median(inCache.approve);
    printTable('Worker resident memory (MiB)', [
      {
        worker: `cache ${largeCache} (SDK default)`,
        'idle at start': idleRss,
        [`${N} workflows set up`]: fullRss,
        'after sample': afterInCacheRss,
        'per cached workflow (KiB)': round(((fullRss - idleRss) * 1024) / Math.min(N, largeCache), 1),
      },
      {
        worker: `cache ${SMALL_CACHE}`,
        'idle at start': smallIdleRss,
        [`${N} workflows set up`]: '—',
        'after sample': smallRss,
        'per cached workflow (KiB)': '—',
      },
    ]);
    printTable('Fleet set-up', [
      { workflows: N, seconds: round(setupSeconds, 1), 'set-ups/s': round(N / setupSeconds, 1) },
    ]);
    const perWorkflowKiB = ((fullRss - idleRss) * 1024) / Math.min(N, largeCache);
    printTargets([
      {
        name: `${N} open workflows on one worker`,
        met: true,
        detail: `RSS ${fullRss} MiB with ${Math.min(N, largeCache)} cached (≈ ${round(perWorkflowKiB, 0)} KiB each; anchor: ~1 MB each, ≥ 600/GB)`,
      },
      {
        name: 'approval out of cache vs in cache (reported, no bar)',
        met: true,
        detail: `median ${round(median(outOfCache.approve), 1)} vs ${round(median(inCache.approve), 1)} ms = ×${round(ratio)}`,
      },
    ]);
    writeResults('many-workflows', {
      n: N,
      largeCache,
      smallCache: SMALL_CACHE,
      sample: SAMPLE,
      setupSeconds,
      rss: { idleRss, fullRss, afterInCacheRss, smallIdleRss, smallRss },
      inCache,
      outOfCache,
      ratio,
    });
  } finally {
    await stopWorker(worker).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
});
