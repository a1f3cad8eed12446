import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
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
import { LOCAL_ACTIVITY_TYPES, createActivities, type ActivityDependencies } from '../../activities/index.js';
import type { Db } from '../../db/database.js';
import { createCommandAuthActivities } from '../../worker/command-verifier.js';
import { HISTORIES_DIR, pathsOf } from '../../test-support/histories.js';
import * as messages from './messages.js';
import { CURRENT_RUN, FOLDED_PATCHES } from './patches.js';

/**
 * Histories of the main paths, recorded from real runs on the dev server (RECORD_HISTORIES=1, see
 * docs/decisions/replay-safety.md) and committed. Replaying them against today's workflow code
 * proves a change is deterministic for running services. Never regenerate a history to make a
 * failing replay pass: a committed history stands for executions started under the code that wrote it.
 */
const RECORDED_HISTORIES = [
  // Recorded before signed commands and before the deactivation queue-jump: the old deactivation path.
  'secret-lifecycle.json',
  'jwks-lifecycle.json',
  'reject-and-resubmit.json',
  'provisioning-retry.json',
  'continue-as-new.json',
  // Issue 13: signed start and updates, and a refused (forged) approval, recorded after the change.
  'signed-commands.json',
  // Issue 22: today's code (recorded-paths.test.ts, projection-refused.test.ts): draft and active
  // rotation, recheckCredentials, reject, the queue-jumping deactivation, a refused projection.
  'current-secret-lifecycle.json',
  'current-jwks-recheck-reject.json',
  'current-projection-refused.json',
  // Issue 16 (owner-actions.test.ts): withdraw and resubmit, delete, the owner's revoke, a staged
  // rotation on its timer, activated early, dropped.
  'current-withdraw.json',
  'current-delete.json',
  'current-revoke.json',
  'current-staged-rotation.json',
  // Issue 17 (credential-health.test.ts): the health timer, a failing check, the recovery.
  'current-credential-health.json',
  // Issue 15 (live-change.test.ts): a live service changed through review (approved twice, rejected
  // after a withdraw and a stale approval, dropped).
  'current-live-change.json',
  'current-live-change-rejected.json',
  'current-live-change-dropped.json',
  // Issue 19 (recorded-paths.test.ts): bookkeeping as local activities, policies derived in the apply
  // activity (patch local-bookkeeping).
  'bookkeeping-secret-lifecycle.json',
  'bookkeeping-jwks-recheck-reject.json',
  // Issue 25 (notifications.test.ts): notifications after transitions (mail and webhook), the
  // staged-secret notice, review reminders carried across a continue-as-new, stopped by the decision.
  'current-notifications.json',
  'current-notifications-reminders.json',
  // Issue 25 after local bookkeeping: notifications recorded again, and reminders that roll the run over
  // after timer work (patch continue-after-timers).
  'timers-notifications.json',
  'timers-notifications-reminders.json',
  'timers-notifications-reminders-rolled-over.json',
  // Issue 21 (provisioning-bound.test.ts): an approval whose provisioning ends as failed after its
  // last round (patch provisioning-max-rounds), then approved again.
  'current-provisioning-max-rounds.json',
  // Issue 19 (recorded-paths.test.ts): no delivery started on a channel the worker cannot deliver on
  // (patch notification-channels), search attributes upserted only when one changed (patch
  // search-attributes-on-change).
  'channels-secret-lifecycle.json',
  'channels-jwks-recheck-reject.json',
  // Issue 19 (live-change.test.ts): a JWKS service's change approved after its keys rotated (the
  // service keeps the keys of the check at approval).
  'current-live-change-jwks.json',
  // Issue 19 (recorded-paths, notifications and live-change tests): runs of today's code, which
  // record one CURRENT_RUN marker for every patch (patches.ts) instead of a marker each.
  'folded-secret-lifecycle.json',
  'folded-jwks-recheck-reject.json',
  'folded-notifications.json',
  'folded-notifications-reminders.json',
  'folded-notifications-reminders-rolled-over.json',
  'folded-live-change-jwks.json',
] as const;

function loadHistories(files: readonly string[] = RECORDED_HISTORIES) {
  return files.map((file) => {
    const full = path.join(HISTORIES_DIR, file);
    if (!existsSync(full)) throw new Error(`recorded history ${file} is missing from ${HISTORIES_DIR}`);
    return { workflowId: file, history: JSON.parse(readFileSync(full, 'utf8')) as { events?: unknown[] } };
  });
}

async function replayErrors(bundle: { codePath: string } | WorkflowBundleWithSourceMap) {
  const errors: Array<{ workflowId: string; error: unknown }> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle },
    loadHistories() as Parameters<typeof Worker.runReplayHistories>[1] & object[],
  )) {
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

  it('negative control: a non-deterministic variant of the workflow fails replay of every history with a DeterminismViolationError', async () => {
    const variant = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../../test-support/nondeterministic-workflows.ts', import.meta.url),
      ),
      logger: new DefaultLogger('ERROR'),
    });
    const errors = await replayErrors(variant);
    // The kind of failure, per history: any other error (a broken bundle, a missing file) is no proof.
    expect(
      Object.fromEntries(errors.map((e) => [e.workflowId, e.error instanceof DeterminismViolationError])),
    ).toEqual(Object.fromEntries(RECORDED_HISTORIES.map((file) => [file, true])));
  });

  it('every history in the folder is replayed (none recorded and forgotten)', () => {
    expect(
      readdirSync(HISTORIES_DIR)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual([...RECORDED_HISTORIES].sort());
  });

  it('a missing history file fails the test rather than passing silently', () => {
    expect(() => loadHistories([...RECORDED_HISTORIES, 'no-such-history.json'])).toThrow(
      'recorded history no-such-history.json is missing',
    );
  });
});

/** Update names, as the messages module defines them (defineUpdate gives `{ type: 'update', name }`). */
function updateNamesInCode(): string[] {
  return (Object.values(messages) as Array<{ type?: unknown; name?: unknown }>)
    .filter((m) => m.type === 'update')
    .map((m) => String(m.name))
    .sort();
}

/**
 * Activity types the worker registers for the Backend Service workflow: the keys of the real
 * activities factory, plus the command verification local activity. Built with inert dependencies:
 * only the keys are read.
 */
function activityTypesInCode(): { activities: string[]; localActivities: string[] } {
  const inert = {
    db: {} as Db,
    secretStore: {},
    jwksFetcher: { mode: 'development' },
    aidbox: { sandbox: {}, production: {} },
    orgbac: { sandbox: false, production: true },
  } as unknown as ActivityDependencies;
  const all = Object.keys(createActivities(inert));
  const local = new Set<string>(LOCAL_ACTIVITY_TYPES);
  return {
    activities: all.filter((name) => !local.has(name)).sort(),
    localActivities: [
      ...Object.keys(createCommandAuthActivities({ off: true, reason: 'test negative control' })),
      ...LOCAL_ACTIVITY_TYPES,
    ].sort(),
  };
}

/** Patch IDs the workflow code passes to the SDK's patched(), read from its source (string constants resolved). */
function patchIdsInCode(): string[] {
  const dir = fileURLToPath(new URL('./', import.meta.url));
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  const constants = new Map(
    [...sources.matchAll(/const\s+([A-Z_]+)\s*=\s*'([^']+)'/g)].map((m) => [m[1]!, m[2]!]),
  );
  // patched(ID), and markPatch(ID) where patches.ts asks the SDK itself (CURRENT_RUN).
  return [...sources.matchAll(/(?:patched|markPatch)\(\s*(?:'([^']+)'|([A-Z_]+))\s*\)/g)]
    .map((m) => m[1] ?? constants.get(m[2]!) ?? `unresolved ${m[2]}`)
    .filter((id, i, all) => all.indexOf(id) === i)
    .sort();
}

function coverage(files: readonly string[]) {
  const seen = loadHistories(files).map((h) => pathsOf(h.history));
  const union = (pick: (p: ReturnType<typeof pathsOf>) => Set<string>) =>
    new Set(seen.flatMap((p) => [...pick(p)]));
  const updates = union((p) => p.updates);
  const activities = union((p) => p.activities);
  const localActivities = union((p) => p.localActivities);
  const patches = union((p) => p.patches);
  const code = activityTypesInCode();
  return {
    updates: updateNamesInCode().filter((n) => !updates.has(n)),
    // Our bookkeeping activities ran as regular activities before the patch local-bookkeeping and as
    // local ones since: either proves its path.
    activities: code.activities.filter((n) => !activities.has(n) && !localActivities.has(n)),
    localActivities: code.localActivities.filter((n) => !localActivities.has(n)),
    patches: patchIdsInCode().filter((n) => !patches.has(n)),
    projectionError: seen.some((p) => p.projectionErrorAnswered)
      ? []
      : ['projectService with projectionError'],
  };
}

describe('the recorded histories cover the code', () => {
  const nothingMissing = {
    updates: [],
    activities: [],
    localActivities: [],
    patches: [],
    projectionError: [],
  };

  it('the lists taken from the code are not empty (the derivation itself works)', () => {
    expect(updateNamesInCode()).toEqual(
      expect.arrayContaining(['approve', 'deactivate', 'recheckCredentials', 'rotateSecret']),
    );
    expect(activityTypesInCode().activities).toEqual(
      expect.arrayContaining(['projectService', 'upsertClient', 'disableClient']),
    );
    expect(activityTypesInCode().activities).not.toContain('recordProbe');
    expect(activityTypesInCode().localActivities).toEqual([
      'credentialHealthTiming',
      'notificationTiming',
      'verifyCommand',
    ]);
    expect(patchIdsInCode()).toEqual(
      expect.arrayContaining(['deactivation-first', 'signed-commands-start', 'signed-commands-updates']),
    );
  });

  it('the patches CURRENT_RUN folds are patches of the code (a misspelt one would still record its own marker)', () => {
    expect([...FOLDED_PATCHES].filter((id) => !patchIdsInCode().includes(id))).toEqual([]);
    expect(patchIdsInCode()).toContain(CURRENT_RUN);
  });

  it('every update, activity type, local activity and patch in the code appears in some recorded history', () => {
    expect(coverage(RECORDED_HISTORIES)).toEqual(nothingMissing);
  });

  it("negative control: without the recordings of today's code, the gaps are named", () => {
    const old = RECORDED_HISTORIES.filter(
      (f) =>
        !f.startsWith('current-') &&
        !f.startsWith('bookkeeping-') &&
        !f.startsWith('timers-') &&
        !f.startsWith('channels-') &&
        !f.startsWith('folded-'),
    );
    expect(coverage(old)).toEqual({
      updates: [
        'activateStagedSecret',
        'delete',
        'dropPendingChange',
        'dropStagedSecret',
        'recheckCredentials',
        'revoke',
        'withdraw',
      ],
      activities: ['deliverNotificationWebhook', 'forgetSecretVersion', 'sendNotificationMail'],
      localActivities: ['credentialHealthTiming', 'notificationTiming'],
      patches: [
        'continue-after-timers',
        'credential-health',
        'current-run-2026-11-30',
        'deactivation-first',
        'local-bookkeeping',
        'notification-channels',
        'notifications',
        'provisioning-max-rounds',
        'search-attributes-on-change',
      ],
      projectionError: ['projectService with projectionError'],
    });
  });
});
