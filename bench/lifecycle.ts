/**
 * bench:lifecycle — complete lifecycles per second (create → submit → approve → active in the
 * production stand-in) at rising concurrency, against the ceiling: a no-op workflow with the same
 * updates and activities (bench/noop-workflow.ts) on the same dev server, measured in the same run.
 * Target: ≥ 0.5 of the ceiling at every concurrency. Also: where a lifecycle's time goes.
 * BENCH_TEMPORAL=cluster runs it on `npm run cluster`'s Temporal (four server processes on
 * PostgreSQL, mTLS and JWT) instead of the dev server: compare the two runs' tables.
 */
import { createCommandAuthActivities } from '../worker/command-verifier.js';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { registration } from '../test-support/services.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import {
  approveUpdate,
  stateQuery,
  submitUpdate,
  workflowIdOf,
} from '../workflows/backend-service/messages.js';
import type { BackendServiceInput, RetryTiming } from '../workflows/backend-service/types.js';
import { benchArgs } from './support/args.js';
import { withBenchEnvironment, type BenchEnvironment } from './support/environment.js';
import { printTable, printTargets, writeResults, type Target } from './support/report.js';
import { closedLoop, median, p99, round, since } from './support/stats.js';
import { CATEGORY, timedActivities, type Category } from './support/timed-activities.js';

const { quick } = benchArgs();
const LEVELS = quick ? [1, 4] : [1, 4, 16];
const perLevel = (c: number) => (quick ? Math.max(4, 2 * c) : Math.max(12, 4 * c));
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };
/** Production timings, but rounds short enough that a stray failure does not stall the run. */
const RETRY: RetryTiming = {
  initialIntervalMs: 200,
  maximumIntervalMs: 1_000,
  attemptsPerRound: 5,
  roundDelayMs: 1_000,
  activityTimeoutMs: 10_000,
};

type Kind = 'noop' | 'real';
interface LifecycleSample {
  totalMs: number;
  startMs: number;
  submitMs: number;
  approveMs: number;
  /** From the approve answer to active (production provisioning in the background). */
  toActiveMs: number;
  activityMs: Partial<Record<Category, number>>;
}

const noopLog = () => undefined;
const quietLogger = {
  log: noopLog,
  trace: noopLog,
  debug: noopLog,
  info: noopLog,
  warn: noopLog,
  error: (m: string) => console.error(m),
};

const waiters = new Map<string, () => void>();
const accounts = new Map<string, Partial<Record<Category, number>>>();
const account = (workflowId: string, activity: string, ms: number) => {
  const category = CATEGORY[activity] ?? 'our code';
  const entry = accounts.get(workflowId) ?? {};
  entry[category] = (entry[category] ?? 0) + ms;
  accounts.set(workflowId, entry);
};
const done = (workflowId: string) => waiters.get(workflowId)?.();
const doneWhenActive = (activity: string, input: unknown) => {
  if (activity !== 'projectService') return false;
  const i = input as { state?: { status: string; approval: unknown }; status?: string };
  return i.state ? i.state.status === 'active' && i.state.approval === null : i.status === 'active';
};

async function startWorkers(env: BenchEnvironment) {
  const [realBundle, noopBundle] = await Promise.all([
    bundleWorkflows(),
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./noop-workflow.ts', import.meta.url)),
      logger: quietLogger,
    }),
  ]);
  const noopActivity = async () => undefined;
  const noopActivities = Object.fromEntries(
    [
      'generateClientSecret',
      'derivePolicies',
      'upsertClient',
      'applyPolicies',
      'setClientActive',
      'settleSecrets',
      'projectService',
    ].map((name) => [name, noopActivity]),
  );
  const queues = { real: `bench-real-${randomUUID()}`, noop: `bench-noop-${randomUUID()}` };
  const real = await Worker.create({
    connection: await env.nativeConnection(),
    taskQueue: queues.real,
    workflowBundle: { code: realBundle.code },
    activities: {
      ...timedActivities(createActivities(env.deps), account, doneWhenActive, done),
      // The verifying local activity runs inside the update handler, not as a measured activity.
      ...createCommandAuthActivities({ keys: env.commandKeys.verifyKeys }),
    },
  });
  const noop = await Worker.create({
    connection: await env.nativeConnection(),
    taskQueue: queues.noop,
    workflowBundle: { code: noopBundle.code },
    activities: timedActivities(noopActivities, account, doneWhenActive, done),
  });
  const runs = [real.run(), noop.run()];
  return {
    queues,
    async stop() {
      real.shutdown();
      noop.shutdown();
      await Promise.all(runs);
    },
  };
}

async function oneLifecycle(env: BenchEnvironment, kind: Kind, taskQueue: string): Promise<LifecycleSample> {
  const serviceId = `bs-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const workflowId = workflowIdOf(serviceId);
  const active = new Promise<void>((resolve) => waiters.set(workflowId, resolve));
  const t0 = performance.now();
  const input: BackendServiceInput = {
    serviceId,
    ownerId: 'alice',
    registration: registration({ type: 'client_secret' }),
    createdAt: new Date().toISOString(),
    retry: RETRY,
  };
  const handle = await env.client.workflow.start(kind === 'real' ? 'backendService' : 'noopBackendService', {
    workflowId,
    taskQueue,
    args: [input],
  });
  const startMs = since(t0);
  const t1 = performance.now();
  await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
  const submitMs = since(t1);
  const { submission } = await handle.query(stateQuery);
  const t2 = performance.now();
  await handle.executeUpdate(approveUpdate, {
    args: [
      { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
    ],
  });
  const approveMs = since(t2);
  const t3 = performance.now();
  await active;
  const sample = {
    totalMs: since(t0),
    startMs,
    submitMs,
    approveMs,
    toActiveMs: since(t3),
    activityMs: accounts.get(workflowId) ?? {},
  };
  waiters.delete(workflowId);
  accounts.delete(workflowId);
  return sample;
}

async function level(env: BenchEnvironment, kind: Kind, taskQueue: string, concurrency: number) {
  const samples: LifecycleSample[] = [];
  const n = perLevel(concurrency);
  const started = performance.now();
  await closedLoop(n, concurrency, async () => void samples.push(await oneLifecycle(env, kind, taskQueue)));
  const seconds = (performance.now() - started) / 1000;
  return { kind, concurrency, n, seconds, perSecond: n / seconds, samples };
}

await withBenchEnvironment('lifecycle', {}, async (env) => {
  const workers = await startWorkers(env);
  try {
    // Warm-up: JIT, bundles loaded into the V8 contexts, pools opened.
    await level(env, 'noop', workers.queues.noop, 2);
    await level(env, 'real', workers.queues.real, 2);

    const rows = [];
    const targets: Target[] = [];
    const results = [];
    for (const concurrency of LEVELS) {
      // The ceiling first, then ours, at the same concurrency on the same server.
      const noop = await level(env, 'noop', workers.queues.noop, concurrency);
      const real = await level(env, 'real', workers.queues.real, concurrency);
      const ratio = real.perSecond / noop.perSecond;
      results.push({ concurrency, noop: strip(noop), real: strip(real), ratio });
      for (const r of [noop, real]) {
        const totals = r.samples.map((s) => s.totalMs);
        rows.push({
          concurrency,
          workflow: r.kind === 'noop' ? 'no-op (ceiling)' : 'Backend Service',
          lifecycles: r.n,
          'lifecycles/s': round(r.perSecond),
          'median ms': round(median(totals), 0),
          'p99 ms': round(p99(totals), 0),
          'ratio to ceiling': r.kind === 'real' ? round(ratio) : 1,
        });
      }
      targets.push({
        name: `throughput ≥ 0.5 × ceiling at concurrency ${concurrency}`,
        met: ratio >= 0.5,
        detail: `${round(real.perSecond)} vs ${round(noop.perSecond)} lifecycles/s = ${round(ratio)}`,
      });
    }
    printTable(
      `Lifecycle throughput on the ${env.target} (closed loop; lifecycles per level: ${LEVELS.map(perLevel).join('/')})`,
      rows,
    );

    // Where the time goes, at the highest concurrency: medians per lifecycle.
    const top = results.at(-1)!;
    const split = (samples: LifecycleSample[]) => {
      const of = (pick: (s: LifecycleSample) => number) => round(median(samples.map(pick)), 1);
      const activity = (s: LifecycleSample) => Object.values(s.activityMs).reduce((a, b) => a + (b ?? 0), 0);
      return {
        'lifecycle total': of((s) => s.totalMs),
        'client: start': of((s) => s.startMs),
        'client: submit update': of((s) => s.submitMs),
        'client: approve update': of((s) => s.approveMs),
        'approve answer → active': of((s) => s.toActiveMs),
        'activities: PostgreSQL': of((s) => s.activityMs.PostgreSQL ?? 0),
        'activities: Aidbox stand-in': of((s) => s.activityMs['Aidbox stand-in'] ?? 0),
        'activities: our code': of((s) => s.activityMs['our code'] ?? 0),
        'Temporal + scheduling (total − activities)': of((s) => s.totalMs - activity(s)),
      };
    };
    const realSplit = split(top.real.samples);
    const noopSplit = split(top.noop.samples);
    printTable(
      `Where the time goes (median ms per lifecycle, concurrency ${top.concurrency}, 13 activities and 2 updates each)`,
      Object.keys(realSplit).map((k) => ({
        part: k,
        'Backend Service': realSplit[k as keyof typeof realSplit],
        'no-op': noopSplit[k as keyof typeof noopSplit],
      })),
    );
    printTargets(targets);
    writeResults(env.target === 'cluster' ? 'lifecycle-cluster' : 'lifecycle', {
      target: env.target,
      levels: results,
      split: { real: realSplit, noop: noopSplit },
      targets,
      retry: RETRY,
    });
  } finally {
    await workers.stop();
  }
});

function strip(r: Awaited<ReturnType<typeof level>>) {
  const totals = r.samples.map((s) => s.totalMs);
  return {
    n: r.n,
    seconds: r.seconds,
    perSecond: r.perSecond,
    medianMs: median(totals),
    p99Ms: p99(totals),
    samples: r.samples,
  };
}
