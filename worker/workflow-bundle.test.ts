import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workerV8Flags } from './memory-plan.js';
import { bundleWorkflowsInChild } from './workflow-bundle.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/** Resident MiB of a process launched like the worker, after it bundled one way and collected garbage. */
async function residentAfterBundling(how: 'inChild' | 'inProcess'): Promise<number> {
  const script = `
    import { bundleWorkflows, bundleWorkflowsInChild } from './worker/workflow-bundle.ts';
    globalThis.kept = (await (${how === 'inChild' ? 'bundleWorkflowsInChild' : 'bundleWorkflows'})()).code;
    for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); }
    console.log(Math.round(process.memoryUsage().rss / 1048576));
  `;
  const flags = workerV8Flags(384);
  const { stdout } = await run(
    process.execPath,
    [...flags, '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT },
  );
  return Number(stdout.trim());
}

describe('the workflow bundle a worker runs', () => {
  it('is made in a child process: the whole workflow code, with the tracing interceptors', async () => {
    const { code } = await bundleWorkflowsInChild();
    expect(code).toContain('backendService');
    expect(code).toContain('tracing-interceptors');
    expect(code.length).toBeGreaterThan(100_000);
  });

  it("keeps the bundler's memory out of the worker (against bundling in the worker's own process)", async () => {
    const [inChild, inProcess] = [
      await residentAfterBundling('inChild'),
      await residentAfterBundling('inProcess'),
    ];
    console.log(
      `[bundle memory] resident after bundling: in a child ${inChild} MiB, in process ${inProcess} MiB`,
    );
    expect(inProcess - inChild).toBeGreaterThan(50);
  });

  it('fails with the child’s own error when bundling fails', async () => {
    await expect(bundleWorkflowsInChild(path.join(ROOT, 'worker', 'no-such-entry.ts'))).rejects.toThrow(
      /bundling the workflows failed \(exit 1\):[\s\S]*no-such-entry/,
    );
  });
});
