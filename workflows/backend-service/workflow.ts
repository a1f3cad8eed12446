import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { beginRun, patched } from './patches.js';
import { createApprovalJob } from './approval-job.js';
import { refuseForgedStart, type RefusedStart } from './command-auth.js';
import { createCredentialChecks } from './credential-checks.js';
import { createCredentialHealth } from './credential-health.js';
import { createCutOffJobs } from './cut-off-jobs.js';
import type { BackendServiceInput } from './inputs.js';
import { createLiveChangeJobs } from './live-change-jobs.js';
import {
  activateStagedSecretUpdate,
  approveUpdate,
  deactivateUpdate,
  deleteUpdate,
  dropPendingChangeUpdate,
  dropStagedSecretUpdate,
  editUpdate,
  recheckCredentialsUpdate,
  rejectUpdate,
  revokeUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
  withdrawUpdate,
} from './messages.js';
import { createNotifier } from './notifications.js';
import { createRegistrationJobs } from './registration-jobs.js';
import { createRotationJobs } from './rotation-jobs.js';
import { createRounds } from './rounds.js';
import { cutOff, validatorsByUpdate as validators } from './rules.js';
import { createJobRunner } from './run-job.js';
import { createRunCore, type RunContext } from './run-context.js';
import { createSandbox } from './sandbox.js';
import type { ServiceState } from './service-state.js';
import { createUpdateQueue } from './update-queue.js';
import { createVisibility } from './visibility.js';

const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
/** Patch: continue-as-new is also considered after timer work (reminders, health checks, staged secrets). */
const CONTINUE_AFTER_TIMERS = 'continue-after-timers';

/**
 * One long-lived workflow per Backend Service (docs/architecture.md, "Shape"). State is initialised
 * first, then the handlers are registered, then the main loop runs: the only place that calls
 * activities. Update handlers validate (refusals leave no trace), queue a job and wait for its
 * outcome (update-queue.ts); the jobs live in one module per concern, sharing the run's context.
 */
export async function backendService(input: BackendServiceInput): Promise<ServiceState | RefusedStart> {
  beginRun();
  const continueAfterEvents = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  const core = createRunCore(input);
  const { state, timing, flags } = core;
  const updates = createUpdateQueue(core);
  const { queue } = updates;
  const ctx: RunContext = {
    ...core,
    ...createVisibility(core, (history) => notify.afterProjection(history)),
  };
  const health = createCredentialHealth({
    state: () => state,
    acts: ctx.acts,
    checkJwksOptions: ctx.internalOptions('Credential health: fetch and validate the JWKS'),
    project: (history) => ctx.project(history),
    entry: (action, reason) => ctx.entry('system', action, state.status, state.status, reason),
  });
  // Notifications carried over by continue-as-new are started again here, before anything else.
  const notify = createNotifier({
    state: () => state,
    acts: ctx.acts,
    ownerEmail: input.ownerEmail,
    carried: input.carried?.notifications,
    record: (e) => queue.push({ job: { kind: 'refusedCommand', entry: e } }),
    project: (e) => ctx.project(e),
    entry: (action, reason) => ctx.entry('system', action, state.status, state.status, reason),
  });
  const rounds = createRounds(timing);
  const sandbox = createSandbox(ctx, rounds);
  const credentials = createCredentialChecks(ctx, sandbox);
  const liveChange = createLiveChangeJobs(ctx, sandbox);
  const cutOffJobs = createCutOffJobs(ctx, rounds);
  const rotation = createRotationJobs(ctx, rounds, sandbox);
  const { runJob } = createJobRunner({
    ctx,
    registration: createRegistrationJobs({ ctx, sandbox, credentials, liveChange, cutOff: cutOffJobs }),
    approval: createApprovalJob({ ctx, rounds, sandbox, credentials, liveChange }),
    liveChange,
    rotation,
    cutOff: cutOffJobs,
    credentials,
  });

  // ---- handlers ----
  setHandler(stateQuery, () => state);
  updates.register(editUpdate, validators.edit, (i) => ({ kind: 'edit', input: i }));
  updates.register(submitUpdate, validators.submit, (i) => ({ kind: 'submit', input: i }));
  updates.register(approveUpdate, validators.approve, (i) => ({ kind: 'approve', input: i }));
  updates.register(rejectUpdate, validators.reject, (i) => ({ kind: 'reject', input: i }));
  updates.register(deactivateUpdate, validators.deactivate, (i) => ({ kind: 'deactivate', input: i }), {
    jumpsQueue: true,
  });
  updates.register(rotateSecretUpdate, validators.rotateSecret, (i) => ({ kind: 'rotateSecret', input: i }));
  updates.register(withdrawUpdate, validators.withdraw, (i) => ({ kind: 'withdraw', input: i }));
  updates.register(deleteUpdate, validators.delete, (i) => ({ kind: 'delete', input: i }));
  updates.register(revokeUpdate, validators.revoke, (i) => ({ kind: 'revoke', input: i }), {
    jumpsQueue: true,
  });
  updates.register(activateStagedSecretUpdate, validators.activateStagedSecret, (i) => ({
    kind: 'activateStagedSecret',
    input: i,
  }));
  updates.register(dropStagedSecretUpdate, validators.dropStagedSecret, (i) => ({
    kind: 'dropStagedSecret',
    input: i,
  }));
  updates.register(dropPendingChangeUpdate, validators.dropPendingChange, (i) => ({
    kind: 'dropPendingChange',
    input: i,
  }));
  updates.register(recheckCredentialsUpdate, validators.recheckCredentials, (i) => ({
    kind: 'recheckCredentials',
    input: i,
  }));

  // ---- main loop ----
  // A start that did not come from the API (no valid start token) provisions nothing. Checked once
  // the handlers exist: an update delivered with the start is then queued, not rejected for want
  // of a handler, and runs only after this check.
  const refusedStart = await refuseForgedStart(input);
  if (refusedStart) return refusedStart;
  ctx.publishSearchAttributes();
  for (;;) {
    // A staged secret goes live on a durable timer: this wait (a timer in history) survives worker
    // restarts, and continue-as-new carries the staged secret into a new wait.
    // So is a live JWKS service's next key-set check (credential-health.ts).
    if (queue.length === 0) await health.scheduleIfNeeded();
    // Review reminders and the staged-secret notice too (notifications.ts).
    if (queue.length === 0) await notify.scheduleIfNeeded();
    const stagedDueInMs = rotation.stagedSecretDueInMs();
    const healthDueInMs = health.dueInMs();
    const notifyDueInMs = notify.dueInMs();
    const timeouts = [
      flags.sandboxRetryDue ? timing.roundDelayMs : undefined,
      stagedDueInMs,
      healthDueInMs,
      notifyDueInMs,
    ].filter((t): t is number => t !== undefined);
    const woke =
      stagedDueInMs === 0 ||
      healthDueInMs === 0 ||
      notifyDueInMs === 0 ||
      (await condition(
        () => queue.length > 0 || flags.cleanupPending || finished(),
        timeouts.length > 0 ? Math.max(1, Math.min(...timeouts)) : undefined,
      ));
    if (rotation.stagedSecretDueInMs() === 0 && queue.length === 0 && !finished()) {
      await updates.cancellable(null, rotation.activateStagedSecretOnTimer);
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (health.dueInMs() === 0 && queue.length === 0 && !finished()) {
      await updates.cancellable(null, health.check);
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (notify.dueInMs() === 0 && queue.length === 0 && !finished()) {
      await notify.fire();
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (!woke && flags.sandboxRetryDue) {
      await updates.cancellable(null, sandbox.provisionSandbox);
      continue;
    }
    const queued = queue.shift();
    if (queued) {
      // After deactivation, jobs still queued are refused by their re-check; none is left waiting.
      await updates.cancellable(queued, () => runJob(queued));
    } else if (finished()) {
      // Cut off (production first, then the sandbox, then the secrets) or deleted: the life ends,
      // once the notifications under way are delivered or given up on.
      await condition(allHandlersFinished);
      await notify.settled();
      return state;
    } else if (flags.cleanupPending) {
      await cutOffJobs.cleanUpAfterDeactivation();
      await condition(allHandlersFinished);
      await notify.settled();
      return state;
    }
    await continueAsNewIfDue();
  }

  async function continueAsNewIfDue(): Promise<void> {
    if (queue.length === 0 && !flags.cleanupPending && shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (queue.length === 0) {
        const { recentUpdates, recentCommands } = updates.carry();
        await continueAsNew<typeof backendService>({
          ...input,
          carried: { state, recentUpdates, recentCommands, notifications: notify.carry() },
        });
      }
    }
  }

  /**
   * A service that only waits on timers (reminders, health checks) grows its history too: it rolls
   * over after timer work as well (patch CONTINUE_AFTER_TIMERS), not only after a job.
   */
  async function continueAsNewAfterTimerIfDue(): Promise<void> {
    if (shouldContinueAsNew() && patched(CONTINUE_AFTER_TIMERS)) await continueAsNewIfDue();
  }

  /** Cut off and cleaned up (production first, then the sandbox, then the secrets), or deleted. */
  function finished(): boolean {
    return (state.cleanup?.done === true && cutOff(state)) || Boolean(state.deletedAt);
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= continueAfterEvents;
  }
}
