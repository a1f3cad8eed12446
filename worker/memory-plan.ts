import v8 from 'node:v8';
import { workerSchema } from '../platform/config.js';

/**
 * How a worker process fits its memory budget (WORKER_MEMORY_BUDGET_MB: the resident memory it
 * may use, in MiB): the V8 heap limits its launcher passes to Node, and how many running workflows
 * it keeps cached. The figures are measured with bench:many-workflows (docs/decisions/worker-memory.md):
 *
 * - Without limits, V8 sizes its heaps from the machine's memory and collects lazily: the worker
 *   reached 850 MiB with 1,500 workflows and a cache of 163, nearly all of it garbage and empty
 *   young generation, while each of its two isolates (the main thread: activities and the SDK; the
 *   workflow thread) lived on about 60 MiB.
 * - The young generation was most of it: `--max-semi-space-size=8` with `--max-old-space-size=160`
 *   held the same run at 367 MiB, and 5,000 workflows at 374 MiB, with unchanged latencies.
 * - Under those limits an idle worker is about 225 MiB (Node, tsx and the application's modules,
 *   the workflow bundle in its V8 context, the SDK's Rust core). With 5,000 open workflows it
 *   peaked at 374 MiB with a cache of 163 and at 425 MiB with 303: about 315 MiB plus 360 KiB per
 *   cached workflow (its state in both isolates and the core, and the heaps' room to collect).
 */
const BASE_MB = 320;
const CACHED_WORKFLOW_KIB = 360;
const MIN_CACHED = 10;
const MAX_CACHED = 20_000;

export interface WorkerMemoryPlan {
  maxCachedWorkflows: number;
  /** Each isolate's old generation (`--max-old-space-size`). */
  oldSpaceMb: number;
  /** Each isolate's semi-space (`--max-semi-space-size`); the young generation is about three of them. */
  semiSpaceMb: number;
}

export function workerMemoryPlan(budgetMb: number): WorkerMemoryPlan {
  const maxCachedWorkflows = Math.min(
    MAX_CACHED,
    Math.max(MIN_CACHED, Math.floor(((budgetMb - BASE_MB) * 1024) / CACHED_WORKFLOW_KIB)),
  );
  // The workflow thread's old generation holds its ~60 MiB of code and state plus the cached
  // workflows, with room to collect; the main thread gets the same limit (V8 flags are per process).
  const oldSpaceMb = Math.ceil((96 + (maxCachedWorkflows * CACHED_WORKFLOW_KIB) / 1024) / 8) * 8;
  return { maxCachedWorkflows, oldSpaceMb, semiSpaceMb: 8 };
}

/** The V8 flags a launcher passes (`node <flags> --import tsx worker/main.ts`); NODE_OPTIONS takes them too. */
export function workerV8Flags(budgetMb: number): string[] {
  const plan = workerMemoryPlan(budgetMb);
  return [`--max-old-space-size=${plan.oldSpaceMb}`, `--max-semi-space-size=${plan.semiSpaceMb}`];
}

/**
 * Whether this process's main heap is within the plan, i.e. its launcher passed the flags. The
 * heap limit V8 reports is the old generation plus three semi-spaces.
 */
export function heapWithinPlan(plan: WorkerMemoryPlan): boolean {
  const limitMb = v8.getHeapStatistics().heap_size_limit / 1024 / 1024;
  return limitMb <= (plan.oldSpaceMb + 3 * plan.semiSpaceMb) * 1.05;
}

/**
 * A worker started without the flags (a launcher of an operator's own): the workflow thread, an
 * isolate created later, still gets the plan's limits, which V8 reads when an isolate is created.
 */
export function limitWorkflowThreadHeap(budgetMb: number): void {
  for (const flag of workerV8Flags(budgetMb)) v8.setFlagsFromString(flag);
}

/** The flags for the budget in an environment (WORKER_MEMORY_BUDGET_MB or its default): for launchers. */
export function workerV8FlagsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return workerV8Flags(workerSchema.shape.WORKER_MEMORY_BUDGET_MB.parse(env.WORKER_MEMORY_BUDGET_MB));
}
