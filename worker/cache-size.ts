/**
 * How many running workflows the worker keeps in memory, from a memory budget. Measured on this
 * project (bench:many-workflows, 5,000 open services): a cached Backend Service workflow costs about
 * 1.4 MiB of RSS (a cache of 509 measured 959 MiB), and a worker with an empty cache about 160 MiB.
 * An uncached workflow is replayed from its history when a message arrives: with a cache of 10,
 * approvals were 1.55× slower than fully cached, and RSS fell from 1,289 to 356 MiB.
 */
const WORKER_BASE_MB = 160;
const CACHED_WORKFLOW_KIB = 1_400;
const MIN_CACHED = 10;

export function maxCachedWorkflowsFor(budgetMb: number): number {
  return Math.max(MIN_CACHED, Math.floor(((budgetMb - WORKER_BASE_MB) * 1024) / CACHED_WORKFLOW_KIB));
}
