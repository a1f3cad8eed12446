import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workerMemoryPlan, workerV8Flags } from './memory-plan.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Heap limits as a process launched like the worker sees them: the main isolate's, and those of a
 * worker thread created afterwards (the SDK's workflow thread), in MiB.
 */
async function heapLimits(flags: string[], budgetMb: number, limitThread: boolean) {
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    import { heapWithinPlan, limitWorkflowThreadHeap, workerMemoryPlan } from './worker/memory-plan.ts';
    const plan = workerMemoryPlan(${budgetMb});
    const within = heapWithinPlan(plan);
    if (${limitThread} && !within) limitWorkflowThreadHeap(${budgetMb});
    const thread = new Worker("process.getBuiltinModule('node:worker_threads').parentPort.postMessage(process.getBuiltinModule('node:v8').getHeapStatistics().heap_size_limit)", { eval: true });
    const threadLimit = await new Promise((r) => thread.once('message', r));
    await thread.terminate();
    console.log(JSON.stringify({ within, main: v8.getHeapStatistics().heap_size_limit / 1048576, thread: threadLimit / 1048576 }));
  `;
  const { stdout } = await run(
    process.execPath,
    [...flags, '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: ROOT,
    },
  );
  return JSON.parse(stdout) as { within: boolean; main: number; thread: number };
}

describe("the worker's memory budget", () => {
  it('sizes the cache and the heap limits from the budget; a small budget still caches some workflows', () => {
    const small = workerMemoryPlan(256);
    const standard = workerMemoryPlan(384);
    const large = workerMemoryPlan(2048);
    expect(small.maxCachedWorkflows).toBeGreaterThanOrEqual(10);
    expect(standard.maxCachedWorkflows).toBeGreaterThan(small.maxCachedWorkflows);
    expect(large.maxCachedWorkflows).toBeGreaterThan(standard.maxCachedWorkflows);
    expect(large.oldSpaceMb).toBeGreaterThan(standard.oldSpaceMb);
    // One isolate's old generation never takes the whole budget.
    for (const [budget, plan] of [
      [256, small],
      [384, standard],
      [2048, large],
    ] as const) {
      expect(plan.oldSpaceMb).toBeLessThan(budget);
    }
  });

  // The heap limit V8 reports for an isolate under the default budget's plan: old generation and young.
  const planned = (({ oldSpaceMb, semiSpaceMb }) => oldSpaceMb + 3 * semiSpaceMb)(workerMemoryPlan(384));

  it.each([
    {
      launch: "with the budget's flags",
      flags: workerV8Flags(384),
      limitThread: false,
      within: true,
      thread: true,
    },
    {
      launch: 'without them: the worker notices, and limits the workflow thread',
      flags: [],
      limitThread: true,
      within: false,
      thread: true,
    },
    {
      launch: 'without them and no thread limit (negative control)',
      flags: [],
      limitThread: false,
      within: false,
      thread: false,
    },
  ])('launched $launch', async ({ flags, limitThread, within, thread }) => {
    const limits = await heapLimits(flags, 384, limitThread);
    expect(limits.within).toBe(within);
    expect(limits.main <= planned).toBe(within);
    expect(limits.thread <= planned).toBe(thread);
  });
});
