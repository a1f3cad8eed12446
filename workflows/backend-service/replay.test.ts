import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

/**
 * Histories of the main paths, recorded from real runs on the dev server (see
 * workflows/backend-service/lifecycle.test.ts and signed-commands.test.ts, RECORD_HISTORIES=1) and
 * committed. Replaying them
 * against today's workflow code proves a change is deterministic for running services. Never
 * regenerate a history to make a failing replay pass.
 */
const RECORDED_HISTORIES = [
  'secret-lifecycle.json',
  'jwks-lifecycle.json',
  'reject-and-resubmit.json',
  'provisioning-retry.json',
  'continue-as-new.json',
  // Issue 13: signed start and updates, and a refused (forged) approval, recorded after the change.
  'signed-commands.json',
] as const;

const HISTORIES_DIR = fileURLToPath(new URL('./__histories__/', import.meta.url));

function loadHistories(files: readonly string[] = RECORDED_HISTORIES) {
  return files.map((file) => {
    const full = path.join(HISTORIES_DIR, file);
    if (!existsSync(full)) throw new Error(`recorded history ${file} is missing from ${HISTORIES_DIR}`);
    return { workflowId: file, history: JSON.parse(readFileSync(full, 'utf8')) };
  });
}

async function replayErrors(bundle: { codePath: string } | WorkflowBundleWithSourceMap) {
  const errors: Array<{ workflowId: string; error: unknown }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, loadHistories())) {
    if (result.error) errors.push({ workflowId: result.workflowId, error: result.error });
  }
  return errors;
}

describe('replay of recorded histories', () => {
  beforeAll(() => {
    try {
      // The negative control's expected non-determinism would otherwise fill the output with warnings.
      Runtime.install({
        logger: new DefaultLogger('ERROR'),
        telemetryOptions: {
          logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
        },
      });
    } catch {
      // Installed already in this process.
    }
  });

  it('every recorded path replays against the current workflow code', async () => {
    const errors = await replayErrors({ codePath: inject('workflowBundlePath') });
    expect(errors.map((e) => `${e.workflowId}: ${String(e.error)}`)).toEqual([]);
  });

  it('negative control: a non-deterministic variant of the workflow fails replay', async () => {
    const variant = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../../test-support/nondeterministic-workflows.ts', import.meta.url),
      ),
      logger: new DefaultLogger('ERROR'),
    });
    const errors = await replayErrors(variant);
    expect(errors.length).toBe(RECORDED_HISTORIES.length);
  });

  it('a missing history file fails the test rather than passing silently', () => {
    expect(() => loadHistories([...RECORDED_HISTORIES, 'no-such-history.json'])).toThrow(
      'recorded history no-such-history.json is missing',
    );
  });
});
