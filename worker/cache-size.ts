/**
 * How many running workflows the worker keeps in memory, from a memory budget. Measured on this
 * project (bench:many-workflows): a cached Backend Service workflow costs about 450 KiB of RSS, and a
 * worker with an empty cache about 160 MiB. An uncached workflow is replayed from its history when a
 * message arrives: with a cache of 10 for 5,000 open services, approvals were 1.55× slower than fully
 * cached, and RSS fell from 1,289 to 356 MiB.
 */
const WORKER_BASE_MB = 160;
const CACHED_WORKFLOW_KIB = 450;
const MIN_CACHED = 10;

export function maxCachedWorkflowsFor(budgetMb: number): number {
  return Math.max(MIN_CACHED, Math.floor(((budgetMb - WORKER_BASE_MB) * 1024) / CACHED_WORKFLOW_KIB));
}
