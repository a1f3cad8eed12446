import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { BackendServiceActivities } from '../../activities/backend-service-contract.js';
import {
  BackendServiceAuthMethod,
  BackendServiceCredentialHealth,
  BackendServiceOrganization,
  BackendServiceOwner,
  BackendServiceStatus,
  BackendServiceSubmittedAt,
} from '../search-attributes.js';
import {
  approveUpdate,
  deactivateUpdate,
  editUpdate,
  rejectUpdate,
  recheckCredentialsUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
  withdrawUpdate,
  deleteUpdate,
  revokeUpdate,
  activateStagedSecretUpdate,
  dropStagedSecretUpdate,
  dropPendingChangeUpdate,
} from './messages.js';
import { createCredentialHealth } from './credential-health.js';
import { createNotifier } from './notifications.js';
import { authorizeUpdate, createCommandAuth, refuseForgedStart, type RefusedStart } from './command-auth.js';
import {
  refuseApprove,
  refuseDeactivate,
  refuseEdit,
  refuseRecheckCredentials,
  refuseRotateSecret,
  refuseSubmit,
  refuseReject,
  refuseWithdraw,
  refuseDelete,
  refuseRevoke,
  refuseActivateStagedSecret,
  refuseDropStagedSecret,
  refuseDropPendingChange,
  changeUnderReview,
  submissionUnderReview,
  cutOff,
  type Refusal,
} from './rules.js';
import {
  DEFAULT_RETRY_TIMING,
  FailureType,
  type Actor,
  type ApproveInput,
  type Approval,
  type BackendServiceInput,
  type DecisionInput,
  type EditInput,
  type Environment,
  type HistoryEntry,
  type JwksReport,
  type OwnerActionInput,
  type PendingChange,
  type Registration,
  type ProjectionError,
  type ProvisioningError,
  type RecentUpdate,
  type RecheckCredentialsInput,
  type RotateSecretInput,
  type RotateSecretResult,
  type ServiceState,
  type SubmissionSnapshot,
  type SubmitInput,
  type UpdateResult,
} from './types.js';

/** How many recent update IDs survive continue-as-new, so a retried update is applied once across runs. */
const RECENT_UPDATES_KEPT = 200;
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

type Job =
  | { kind: 'setup' }
  | { kind: 'edit'; input: EditInput }
  | { kind: 'submit'; input: SubmitInput }
  | { kind: 'approve'; input: ApproveInput }
  | { kind: 'reject'; input: DecisionInput }
  | { kind: 'deactivate'; input: DecisionInput }
  | { kind: 'rotateSecret'; input: RotateSecretInput }
  | { kind: 'withdraw'; input: OwnerActionInput }
  | { kind: 'delete'; input: OwnerActionInput }
  | { kind: 'revoke'; input: DecisionInput }
  | { kind: 'activateStagedSecret'; input: OwnerActionInput }
  | { kind: 'dropStagedSecret'; input: OwnerActionInput }
  | { kind: 'dropPendingChange'; input: OwnerActionInput }
  | { kind: 'recheckCredentials'; input: RecheckCredentialsInput }
  | { kind: 'refusedCommand'; entry: HistoryEntry };

interface QueuedJob {
  job: Job;
  /** Set once the job has an answer for its update (it may keep working after, as approve does). */
  outcome?: { result: unknown } | { failure: ApplicationFailure };
  /** A deactivation that jumped the queue: it cuts production off first (patch DEACTIVATION_FIRST). */
  first?: boolean;
}

/**
 * Patch: a deactivation goes to the front of the queue, cancels the job in progress, and cuts
 * production off before anything else. Histories recorded before it keep the old order.
 */
const DEACTIVATION_FIRST = 'deactivation-first';
/** Patch: continue-as-new is also considered after timer work (reminders, health checks, staged secrets). */
const CONTINUE_AFTER_TIMERS = 'continue-after-timers';
/** Patch: projection, policy derivation and secret bookkeeping run as local activities. */
const LOCAL_BOOKKEEPING = 'local-bookkeeping';

class RoundFailed extends Error {
  constructor(
    readonly error: ProvisioningError,
    readonly attempts: number,
    readonly permanent: boolean,
  ) {
    super(`${error.operation} failed in ${error.environment}: ${error.kind}`);
  }
}

/**
 * One long-lived workflow per Backend Service (docs/architecture.md, "Shape"). State is initialised
 * first, then the handlers are registered, then the main loop runs: the only place that calls
 * activities. Update handlers validate (refusals leave no trace), queue a job and wait for its
 * outcome.
 */
export async function backendService(input: BackendServiceInput): Promise<ServiceState | RefusedStart> {
  const timing = input.retry ?? DEFAULT_RETRY_TIMING;
  const continueAfterEvents = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  const state: ServiceState = input.carried?.state ?? initialState(input);
  const recentUpdates: RecentUpdate[] = [...(input.carried?.recentUpdates ?? [])];
  const queue: QueuedJob[] = [];
  if (!input.carried) queue.push({ job: { kind: 'setup' } });
  let sandboxRetryDue = state.sandbox.state === 'failed';
  let cleanupPending = false;
  /** The job in progress and the scope that can cancel it (deactivation does). */
  let running: { queued: QueuedJob | null; scope: CancellationScope } | undefined;
  /** Set by `project` when the read model refused the state for good during the current job. */
  let jobProjectionError: ProjectionError | undefined;
  const commandAuth = createCommandAuth({
    carried: input.carried?.recentCommands,
    state: () => state,
    recordRefusal: (entry) => queue.push({ job: { kind: 'refusedCommand', entry } }),
  });

  /** Aidbox calls: a bounded number of attempts per round; the workflow records each failed round. */
  const activityOptions = (summary?: string): ActivityOptions => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: timing.attemptsPerRound,
    },
    ...(summary ? { summary } : {}),
  });
  /**
   * Our own dependencies (PostgreSQL, secret store, derivation, JWKS check): retried until they
   * succeed, so an outage of PostgreSQL delays a service but never fails its workflow; errors that
   * no retry can fix are non-retryable and fail only the update that needed them.
   */
  const internalOptions = (summary?: string): ActivityOptions => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
    },
    ...(summary ? { summary } : {}),
  });
  const acts = proxyActivities<BackendServiceActivities>(internalOptions());
  /**
   * Our own bookkeeping (the read model, policy derivation, the secret store) runs as local
   * activities once the patch LOCAL_BOOKKEEPING is in: no round trip through the server, and their
   * inputs (the whole state, for a projection) never enter the history. Same retries as before:
   * until PostgreSQL is back, never for an error no retry can fix.
   */
  const localActs = proxyLocalActivities<BackendServiceActivities>({
    startToCloseTimeout: timing.activityTimeoutMs,
  });
  type Own =
    | 'projectService'
    | 'derivePolicies'
    | 'generateClientSecret'
    | 'settleSecrets'
    | 'forgetSecrets'
    | 'forgetSecretVersion';
  function own<K extends Own>(
    name: K,
    summary: string,
    input: Parameters<BackendServiceActivities[K]>[0],
  ): ReturnType<BackendServiceActivities[K]> {
    type Callable = { executeWithOptions(options: object, args: unknown[]): Promise<unknown> };
    const call = patched(LOCAL_BOOKKEEPING)
      ? (localActs[name] as unknown as Callable).executeWithOptions({ ...localOptions(), summary }, [input])
      : (acts[name] as unknown as Callable).executeWithOptions(internalOptions(summary), [input]);
    return call as ReturnType<BackendServiceActivities[K]>;
  }
  const localOptions = () => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
    },
  });
  const health = createCredentialHealth({
    state: () => state,
    acts,
    checkJwksOptions: internalOptions('Credential health: fetch and validate the JWKS'),
    project: (history) => project(history),
    entry: (action, reason) => entry('system', action, state.status, state.status, reason),
  });
  const notify = createNotifier({
    state: () => state,
    acts,
    ownerEmail: input.ownerEmail,
    carried: input.carried?.notifications,
    record: (e) => queue.push({ job: { kind: 'refusedCommand', entry: e } }),
    project: (e) => project(e),
    entry: (action, reason) => entry('system', action, state.status, state.status, reason),
  });

  // ---- handlers ----
  setHandler(stateQuery, () => state);
  registerUpdate(editUpdate, refuseEdit, (i) => ({ kind: 'edit', input: i }));
  registerUpdate(submitUpdate, refuseSubmit, (i) => ({ kind: 'submit', input: i }));
  registerUpdate(approveUpdate, refuseApprove, (i) => ({ kind: 'approve', input: i }));
  registerUpdate(rejectUpdate, refuseReject, (i) => ({ kind: 'reject', input: i }));
  registerUpdate(deactivateUpdate, refuseDeactivate, (i) => ({ kind: 'deactivate', input: i }), {
    jumpsQueue: true,
  });
  registerUpdate(rotateSecretUpdate, refuseRotateSecret, (i) => ({ kind: 'rotateSecret', input: i }));
  registerUpdate(withdrawUpdate, refuseWithdraw, (i) => ({ kind: 'withdraw', input: i }));
  registerUpdate(deleteUpdate, refuseDelete, (i) => ({ kind: 'delete', input: i }));
  registerUpdate(revokeUpdate, refuseRevoke, (i) => ({ kind: 'revoke', input: i }), { jumpsQueue: true });
  registerUpdate(activateStagedSecretUpdate, refuseActivateStagedSecret, (i) => ({
    kind: 'activateStagedSecret',
    input: i,
  }));
  registerUpdate(dropStagedSecretUpdate, refuseDropStagedSecret, (i) => ({
    kind: 'dropStagedSecret',
    input: i,
  }));
  registerUpdate(dropPendingChangeUpdate, refuseDropPendingChange, (i) => ({
    kind: 'dropPendingChange',
    input: i,
  }));
  registerUpdate(recheckCredentialsUpdate, refuseRecheckCredentials, (i) => ({
    kind: 'recheckCredentials',
    input: i,
  }));

  function registerUpdate<Ret, I extends { actor: Actor }>(
    definition: UpdateDefinition<Ret, [I]>,
    refuseFn: (state: ServiceState, input: I) => Refusal | undefined,
    toJob: (input: I) => Job,
    options: { jumpsQueue?: boolean } = {},
  ) {
    setHandler(
      definition,
      async (signedInput: I): Promise<Ret> => {
        // First of all: only a verified command goes on (command-auth.ts); the job acts as its actor.
        const updateInput = await authorizeUpdate(commandAuth, definition.name, signedInput);
        const id = currentUpdateInfo()?.id;
        const earlier = recentUpdates.find((r) => r.id === id);
        if (earlier) return earlier.result as Ret;
        const queued: QueuedJob = { job: toJob(updateInput) };
        if (options.jumpsQueue && input.deactivationJumpsQueue !== false && patched(DEACTIVATION_FIRST))
          jumpQueue(queued);
        else queue.push(queued);
        await condition(() => queued.outcome !== undefined);
        const outcome = queued.outcome!;
        if ('failure' in outcome) throw outcome.failure;
        if (id) remember(id, outcome.result);
        return outcome.result as Ret;
      },
      {
        validator: (updateInput: I) => {
          // A retry of an update already applied (perhaps in an earlier run) is answered, not refused.
          const id = currentUpdateInfo()?.id;
          if (id && recentUpdates.some((r) => r.id === id)) return;
          const refusal = refuseFn(state, updateInput);
          if (refusal) throw refusalFailure(refusal);
        },
      },
    );
  }

  /**
   * Cutting a client off must never wait behind other work: the deactivation goes first and the job
   * in progress is cancelled (its update answers CancelledByDeactivation). A second deactivation
   * queues normally and is refused by its re-check once the first has run.
   */
  function jumpQueue(queued: QueuedJob) {
    const deactivating = (q: QueuedJob | null | undefined) =>
      q?.job.kind === 'deactivate' || q?.job.kind === 'revoke';
    if (queue.some(deactivating) || deactivating(running?.queued)) {
      queue.push(queued);
      return;
    }
    queued.first = true;
    queue.unshift(queued);
    running?.scope.cancel();
  }

  function remember(id: string, result: unknown) {
    recentUpdates.push({ id, result });
    if (recentUpdates.length > RECENT_UPDATES_KEPT)
      recentUpdates.splice(0, recentUpdates.length - RECENT_UPDATES_KEPT);
  }

  // ---- main loop ----
  // A start that did not come from the API (no valid start token) provisions nothing. Checked once
  // the handlers exist: an update delivered with the start is then queued, not rejected for want
  // of a handler, and runs only after this check.
  const refusedStart = await refuseForgedStart(input);
  if (refusedStart) return refusedStart;
  publishSearchAttributes();
  for (;;) {
    // A staged secret goes live on a durable timer: this wait (a timer in history) survives worker
    // restarts, and continue-as-new carries the staged secret into a new wait.
    // So is a live JWKS service's next key-set check (credential-health.ts).
    if (queue.length === 0) await health.scheduleIfNeeded();
    // Review reminders and the staged-secret notice too (notifications.ts).
    if (queue.length === 0) await notify.scheduleIfNeeded();
    const stagedDueInMs = stagedSecretDueInMs();
    const healthDueInMs = health.dueInMs();
    const notifyDueInMs = notify.dueInMs();
    const timeouts = [
      sandboxRetryDue ? timing.roundDelayMs : undefined,
      stagedDueInMs,
      healthDueInMs,
      notifyDueInMs,
    ].filter((t): t is number => t !== undefined);
    const woke =
      stagedDueInMs === 0 ||
      healthDueInMs === 0 ||
      notifyDueInMs === 0 ||
      (await condition(
        () => queue.length > 0 || cleanupPending || finished(),
        timeouts.length > 0 ? Math.max(1, Math.min(...timeouts)) : undefined,
      ));
    if (stagedSecretDueInMs() === 0 && queue.length === 0 && !finished()) {
      await cancellable(null, activateStagedSecretOnTimer);
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (health.dueInMs() === 0 && queue.length === 0 && !finished()) {
      await cancellable(null, health.check);
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (notify.dueInMs() === 0 && queue.length === 0 && !finished()) {
      await notify.fire();
      await continueAsNewAfterTimerIfDue();
      continue;
    }
    if (!woke && sandboxRetryDue) {
      await cancellable(null, provisionSandbox);
      continue;
    }
    const queued = queue.shift();
    if (queued) {
      // After deactivation, jobs still queued are refused by their re-check; none is left waiting.
      await cancellable(queued, () => runJob(queued));
    } else if (finished()) {
      // Cut off (production first, then the sandbox, then the secrets) or deleted: the life ends,
      // once the notifications under way are delivered or given up on.
      await condition(allHandlersFinished);
      await notify.settled();
      return state;
    } else if (cleanupPending) {
      await cleanUpAfterDeactivation();
      await condition(allHandlersFinished);
      await notify.settled();
      return state;
    }
    await continueAsNewIfDue();
  }

  async function continueAsNewIfDue(): Promise<void> {
    if (queue.length === 0 && !cleanupPending && shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (queue.length === 0) {
        await continueAsNew<typeof backendService>({
          ...input,
          carried: {
            state,
            recentUpdates,
            recentCommands: commandAuth.recentCommands,
            notifications: notify.carry(),
          },
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

  /** Milliseconds until the staged secret is due (0: now), or undefined without one. */
  function stagedSecretDueInMs(): number | undefined {
    const staged = state.credentials.stagedSecret;
    if (!staged || cutOff(state) || state.deletedAt) return undefined;
    return Math.max(0, Date.parse(staged.activateAt) - Date.now());
  }

  /** Runs one piece of work in a scope a deactivation can cancel. */
  async function cancellable(queued: QueuedJob | null, work: () => Promise<void>): Promise<void> {
    const scope = new CancellationScope({ cancellable: true });
    running = { queued, scope };
    try {
      await scope.run(work);
    } catch (error) {
      // Only the sandbox retry gets here (runJob answers its own failures): it is retried later.
      if (!isCancellation(error)) throw error;
    } finally {
      running = undefined;
    }
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= continueAfterEvents;
  }

  async function runJob(queued: QueuedJob): Promise<void> {
    const fail = (failure: ApplicationFailure) => (queued.outcome = { failure });
    const answer = (result: unknown) => {
      // The change stands, but the read model could not record it: the update says so (503), the
      // row shows projectionError, and the service goes on taking decisions.
      const projectionError = jobProjectionError as ProjectionError | undefined;
      if (!projectionError) return (queued.outcome = { result });
      return fail(
        ApplicationFailure.create({
          type: FailureType.ProjectionFailed,
          message: `the change was applied, but ${projectionError.message}`,
          details: [{ currentStatus: state.status, projectionError }],
          nonRetryable: true,
        }),
      );
    };
    const job = queued.job;
    // A job queued behind another may find the state changed: re-check before acting.
    const refusal = recheck(job);
    if (refusal) return void fail(refusalFailure(refusal));
    jobProjectionError = undefined;
    try {
      switch (job.kind) {
        case 'setup':
          return await setUp();
        case 'edit':
          return void answer(await edit(job.input));
        case 'submit':
          return void answer(await submit(job.input));
        case 'approve':
          return await approve(job.input, answer);
        case 'reject':
          return void answer(await reject(job.input));
        case 'deactivate':
          if (queued.first) return await deactivateFirst(job.input, answer);
          return void answer(await deactivate(job.input));
        case 'rotateSecret':
          return void answer(
            job.input.activateAt
              ? await stageSecret(job.input, job.input.activateAt)
              : await rotateSecret(job.input),
          );
        case 'recheckCredentials':
          return void answer(await recheckCredentials());
        case 'withdraw':
          return void answer(await withdraw(job.input));
        case 'delete':
          return void answer(await deleteService(job.input));
        case 'revoke':
          return await deactivateFirst(job.input, answer, 'revoked-by-owner');
        case 'activateStagedSecret':
          await activateStagedSecret(job.input.actor.sub);
          return void answer(result());
        case 'dropStagedSecret':
          return void answer(await dropStagedSecret(job.input));
        case 'dropPendingChange':
          return void answer(await dropPendingChange(job.input));
        case 'refusedCommand':
          return void answer(await project(job.entry));
      }
    } catch (error) {
      if (isCancellation(error)) {
        return void fail(
          ApplicationFailure.create({
            type: FailureType.CancelledByDeactivation,
            message:
              'an administrator deactivated the service while this request was in progress; it was stopped and not completed',
            details: [{ currentStatus: state.status }],
            nonRetryable: true,
          }),
        );
      }
      if (error instanceof ApplicationFailure) return void fail(error);
      if (error instanceof ActivityFailure) {
        // A non-retryable failure of one of our own activities: the update fails, the service goes on.
        const cause = error.cause instanceof ApplicationFailure ? error.cause : undefined;
        return void fail(
          ApplicationFailure.create({
            type: cause?.type ?? 'ActivityFailed',
            message: `${error.activityType ?? 'an activity'} failed: ${cause?.message ?? error.message}`,
            nonRetryable: true,
          }),
        );
      }
      if (error instanceof RoundFailed) {
        return void fail(
          ApplicationFailure.create({
            type: 'ProvisioningFailed',
            message: error.message,
            details: [error.error],
            nonRetryable: true,
          }),
        );
      }
      throw error;
    } finally {
      // An update must never wait forever, whatever happened above.
      if (!queued.outcome && job.kind !== 'setup') {
        fail(
          ApplicationFailure.create({
            type: 'Internal',
            message: 'the update was not completed',
            nonRetryable: true,
          }),
        );
      }
    }
  }

  function recheck(job: Job): Refusal | undefined {
    switch (job.kind) {
      case 'setup':
        return undefined;
      case 'edit':
        return refuseEdit(state, job.input);
      case 'submit':
        return refuseSubmit(state, job.input);
      case 'approve':
        return refuseApprove(state, job.input);
      case 'reject':
        return refuseReject(state, job.input);
      case 'deactivate':
        return refuseDeactivate(state, job.input);
      case 'rotateSecret':
        return refuseRotateSecret(state, job.input);
      case 'recheckCredentials':
        return refuseRecheckCredentials(state, job.input);
      case 'withdraw':
        return refuseWithdraw(state, job.input);
      case 'delete':
        return refuseDelete(state, job.input);
      case 'revoke':
        return refuseRevoke(state, job.input);
      case 'activateStagedSecret':
        return refuseActivateStagedSecret(state, job.input);
      case 'dropStagedSecret':
        return refuseDropStagedSecret(state, job.input);
      case 'dropPendingChange':
        return refuseDropPendingChange(state, job.input);
      case 'refusedCommand':
        return undefined;
    }
  }

  // ---- jobs ----

  async function setUp(): Promise<void> {
    const created: HistoryEntry = entry(state.ownerId, 'create', null, 'draft', null);
    if (state.registration.authMethod.type === 'client_secret') {
      const secret = await own('generateClientSecret', 'Generate client secret', {
        serviceId: state.serviceId,
        secretVersion: 1,
      });
      state.credentials = {
        ...state.credentials,
        state: 'valid',
        checkedAt: now(),
        secret: { version: secret.secretVersion, fingerprint: secret.fingerprint, createdAt: now() },
      };
      await project(created);
    } else {
      await project(created);
      await checkCredentials();
    }
    await syncSandbox();
  }

  async function edit(i: EditInput): Promise<UpdateResult> {
    if (state.status === 'active') return editChange(i);
    const from = state.status;
    state.registration = i.registration;
    state.revision += 1;
    if (state.registration.authMethod.type === 'jwks_uri') {
      state.credentials = { ...state.credentials, state: 'pending' };
      await project(entry(i.actor.sub, 'edit', from, state.status, null));
      await checkCredentials();
    } else {
      await project(entry(i.actor.sub, 'edit', from, state.status, null));
    }
    // Until the edited credentials are valid, the last valid registration keeps serving the sandbox.
    await syncSandbox();
    return result();
  }

  async function submit(i: SubmitInput): Promise<UpdateResult> {
    if (state.status === 'active') return submitChange(i);
    await requireValidCredentials();
    await syncSandbox();
    const productionPolicies = await own('derivePolicies', 'Derive production access policies', {
      clientId: state.serviceId,
      scopes: state.registration.scopes.strings,
      organizationId: state.registration.organizationId,
    });
    const from = state.status;
    // A withdrawn submission was never reviewed: the previous review stays the one to compare with.
    state.previousSubmission = state.submission ?? state.previousSubmission;
    state.submission = {
      revision: state.revision,
      submittedAt: now(),
      submittedBy: i.actor.sub,
      registration: state.registration,
      productionPolicies,
    };
    state.status = 'under_review';
    state.rejection = null;
    await project(entry(i.actor.sub, 'submit', from, 'under_review', null));
    return result();
  }

  async function approve(i: ApproveInput, answer: (result: unknown) => void): Promise<void> {
    if (changeUnderReview(state)) return approveChange(i, answer);
    await requireValidCredentials();
    state.approval = provisioningApproval(i);
    await project(entry(i.actor.sub, 'approve', 'under_review', 'under_review', null));
    answer(result());
    await provisionProduction(i.actor.sub);
  }

  async function provisionProduction(approver: string): Promise<void> {
    const submission = state.submission!;
    const clientId = state.serviceId;
    // Production gets the Client inactive, then its policies, then active (docs/aidbox-contract.md §8,
    // "Ordering advice"): the client can never act before its policies exist.
    const steps: Array<{ summary: string; run: () => Promise<void> }> = [
      {
        summary: 'Production: upsert Client (inactive)',
        run: () =>
          acts.upsertClient.executeWithOptions(activityOptions('Production: upsert Client (inactive)'), [
            {
              environment: 'production',
              serviceId: clientId,
              registration: submission.registration,
              secretVersion: state.credentials.secret?.version ?? null,
              active: false,
            },
          ]),
      },
      {
        summary: 'Production: apply access policies',
        run: () =>
          acts.applyPolicies.executeWithOptions(activityOptions('Production: apply access policies'), [
            { environment: 'production', clientId, ...approvedPoliciesInput(submission) },
          ]),
      },
      {
        summary: 'Production: activate Client',
        run: () =>
          acts.setClientActive.executeWithOptions(activityOptions('Production: activate Client'), [
            { environment: 'production', clientId, active: true },
          ]),
      },
    ];
    const failed = await provisionInSteps(steps.map((step) => step.run));
    if (failed) {
      await project(entry(approver, 'approval-failed', 'under_review', 'under_review', failed.error.kind));
      return;
    }
    state.productionProvisioned = true;
    state.status = 'active';
    state.approval = null;
    await settleSecret();
    await project(entry(approver, 'approval-completed', 'under_review', 'active', null));
  }

  /** An approval just accepted: production is being set up for what the administrator approved. */
  function provisioningApproval(i: ApproveInput): Approval {
    return {
      state: 'provisioning',
      revision: i.revision,
      policyHash: i.policyHash,
      by: i.actor.sub,
      at: now(),
      attempts: 0,
      lastError: null,
    };
  }

  /**
   * An approval's production steps, each retried in rounds: every failed round is recorded on the
   * approval (attempts, last error); a permanent failure or the last round ends it as failed.
   */
  async function provisionInSteps(steps: Array<() => Promise<void>>): Promise<RoundFailed | undefined> {
    for (const step of steps) {
      const failure = await inRounds(step, async (failed) => {
        state.approval = {
          ...state.approval!,
          attempts: state.approval!.attempts + failed.attempts,
          lastError: failed.error,
        };
        await project(null);
      });
      if (failure) {
        state.approval = {
          ...state.approval!,
          state: 'failed',
          attempts: state.approval!.attempts + failure.attempts,
          lastError: failure.error,
        };
        return failure;
      }
    }
    return undefined;
  }

  /** The developer fixed their key server: check again, and serve the sandbox once valid. */
  async function recheckCredentials(): Promise<UpdateResult> {
    await checkCredentials();
    await syncSandbox();
    return result();
  }

  async function reject(i: DecisionInput): Promise<UpdateResult> {
    if (changeUnderReview(state)) return rejectChange(i);
    state.status = 'rejected';
    state.approval = null;
    state.rejection = { kind: 'declined', reason: i.reason, by: i.actor.sub, at: now() };
    await project(entry(i.actor.sub, 'reject', 'under_review', 'rejected', i.reason));
    return result();
  }

  async function deactivate(i: DecisionInput): Promise<UpdateResult> {
    state.status = 'rejected';
    state.rejection = { kind: 'deactivated', reason: i.reason, by: i.actor.sub, at: now() };
    await project(entry(i.actor.sub, 'deactivate', 'active', 'rejected', i.reason));
    // The update answers now; the main loop cuts production off and removes the sandbox client next.
    cleanupPending = true;
    return result();
  }

  /**
   * Deactivation (patch DEACTIVATION_FIRST): production is cut off before anything else, even before
   * the read model hears of it; the update answers once production refused the client or its first
   * round failed (then the cut-off goes on in rounds, shown in `cleanup.lastError`). Then the sandbox
   * client goes, then the stored secrets. A read model that refuses the state never stops it.
   */
  async function deactivateFirst(
    i: DecisionInput,
    answer: (result: unknown) => void,
    kind: 'deactivated' | 'revoked-by-owner' = 'deactivated',
  ): Promise<void> {
    const from = state.status;
    state.status = 'rejected';
    state.approval = null;
    state.rejection = { kind, reason: i.reason, by: i.actor.sub, at: now() };
    state.credentials = { ...state.credentials, stagedSecret: null };
    // A pending change goes with the service: there is nothing left to change.
    state.pendingChange = null;
    state.cleanup = { done: false, lastError: null };
    publishSearchAttributes();
    const cutOffProduction = () =>
      acts.disableClient.executeWithOptions(
        activityOptions('Production: disable Client, remove policies, revoke sessions'),
        [{ environment: 'production', clientId: state.serviceId }],
      );
    let productionCut = !state.productionProvisioned;
    if (!productionCut) {
      const failure = await inRounds(cutOffProduction, async () => undefined, 1);
      if (failure) state.cleanup = { done: false, lastError: failure.error };
      else productionCut = true;
    }
    const action = kind === 'deactivated' ? 'deactivate' : 'revoke';
    await projectDespiteRefusal(entry(i.actor.sub, action, from, 'rejected', i.reason));
    answer(result());
    if (!productionCut) await untilDone(cutOffProduction);
    if (state.sandbox.revision !== null || state.sandbox.state !== 'none') {
      await untilDone(() =>
        acts.removeClient.executeWithOptions(activityOptions('Sandbox: remove Client'), [
          { environment: 'sandbox', clientId: state.serviceId },
        ]),
      );
      state.sandbox = { revision: null, state: 'none', lastError: null };
    }
    await own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId });
    state.cleanup = { done: true, lastError: null };
    await projectDespiteRefusal(null);
  }

  /** Retries an Aidbox step in rounds until it succeeds, recording each failed round (deactivation). */
  async function untilDone(run: () => Promise<void>): Promise<void> {
    for (;;) {
      const recordFailure = async (failed: RoundFailed) => {
        state.cleanup = { done: false, lastError: failed.error };
        await projectDespiteRefusal(null);
      };
      const failure = await inRounds(run, recordFailure);
      if (!failure) return;
      await recordFailure(failure);
      await sleep(timing.roundDelayMs);
    }
  }

  /** Deactivation as recorded before the patch DEACTIVATION_FIRST: the read model first, then the boxes. */
  async function cleanUpAfterDeactivation(): Promise<void> {
    const clientId = state.serviceId;
    state.cleanup = { done: false, lastError: null };
    if (state.productionProvisioned) {
      await untilDone(() =>
        acts.disableClient.executeWithOptions(
          activityOptions('Production: disable Client, remove policies, revoke sessions'),
          [{ environment: 'production', clientId }],
        ),
      );
    }
    if (state.sandbox.revision !== null || state.sandbox.state !== 'none') {
      await untilDone(() =>
        acts.removeClient.executeWithOptions(activityOptions('Sandbox: remove Client'), [
          { environment: 'sandbox', clientId },
        ]),
      );
      state.sandbox = { revision: null, state: 'none', lastError: null };
    }
    await own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId });
    cleanupPending = false;
    state.cleanup = { done: true, lastError: null };
    await project(null);
  }

  async function rotateSecret(i: RotateSecretInput): Promise<RotateSecretResult> {
    const secret = await own('generateClientSecret', 'Generate client secret (rotation)', {
      serviceId: state.serviceId,
      secretVersion: nextSecretVersion(),
    });
    state.credentials = { ...state.credentials, highestSecretVersion: secret.secretVersion };
    const environments: Environment[] = [];
    if (state.sandbox.revision !== null) environments.push('sandbox');
    if (state.productionProvisioned) environments.push('production');
    if (environments.length > 0) {
      const failure = await inRounds(
        () =>
          acts.provisionClientSecret.executeWithOptions(
            activityOptions(`Provision rotated secret to ${environments.join(' and ')}`),
            [{ serviceId: state.serviceId, secretVersion: secret.secretVersion, environments }],
          ),
        async () => undefined,
        3,
      );
      if (failure) throw new RoundFailed(failure.error, failure.attempts, true);
    }
    state.credentials = {
      ...state.credentials,
      secret: { version: secret.secretVersion, fingerprint: secret.fingerprint, createdAt: now() },
    };
    await settleSecret();
    await project(entry(i.actor.sub, 'rotate-secret', state.status, state.status, null));
    return { ...result(), secretVersion: secret.secretVersion, fingerprint: secret.fingerprint };
  }

  function nextSecretVersion(): number {
    const c = state.credentials;
    return Math.max(c.highestSecretVersion ?? 0, c.secret?.version ?? 0, c.stagedSecret?.version ?? 0) + 1;
  }

  /** A planned rotation: the next secret is generated (and shown once) now, and goes live at `activateAt`. */
  async function stageSecret(i: RotateSecretInput, activateAt: string): Promise<RotateSecretResult> {
    const secret = await own('generateClientSecret', 'Generate client secret (staged rotation)', {
      serviceId: state.serviceId,
      secretVersion: nextSecretVersion(),
    });
    state.credentials = {
      ...state.credentials,
      highestSecretVersion: secret.secretVersion,
      stagedSecret: {
        version: secret.secretVersion,
        fingerprint: secret.fingerprint,
        createdAt: now(),
        activateAt: new Date(Date.parse(activateAt)).toISOString(),
      },
    };
    await project(
      entry(i.actor.sub, 'stage-secret', state.status, state.status, `goes live at ${activateAt}`),
    );
    return { ...result(), secretVersion: secret.secretVersion, fingerprint: secret.fingerprint };
  }

  /**
   * The staged secret goes live: pushed to every Aidbox holding the client (whose earlier sessions are
   * revoked), then recorded. On its timer (`actor` null) a failing Aidbox is retried in rounds until it
   * answers; asked for by the owner, three rounds, then the update fails and the staged secret stays.
   */
  async function activateStagedSecret(actor: string | null): Promise<void> {
    const staged = state.credentials.stagedSecret;
    if (!staged) return;
    const environments: Environment[] = [];
    if (state.sandbox.revision !== null) environments.push('sandbox');
    if (state.productionProvisioned) environments.push('production');
    if (environments.length > 0) {
      const push = () =>
        acts.provisionClientSecret.executeWithOptions(
          activityOptions(`Provision staged secret to ${environments.join(' and ')}`),
          [{ serviceId: state.serviceId, secretVersion: staged.version, environments }],
        );
      const failure = await inRounds(
        push,
        async (failed) => {
          state.sandbox = { ...state.sandbox, lastError: failed.error };
          await project(null);
        },
        actor === null ? Number.POSITIVE_INFINITY : 3,
      );
      if (failure) throw new RoundFailed(failure.error, failure.attempts, true);
    }
    state.credentials = {
      ...state.credentials,
      secret: { version: staged.version, fingerprint: staged.fingerprint, createdAt: now() },
      stagedSecret: null,
    };
    await settleSecret();
    await project(
      entry(
        actor ?? 'system',
        'activate-staged-secret',
        state.status,
        state.status,
        actor === null ? 'its planned time came' : 'activated early by the owner',
      ),
    );
  }

  /** On its timer: retried in rounds while Aidbox fails; a permanent refusal drops it, on the record. */
  async function activateStagedSecretOnTimer(): Promise<void> {
    try {
      await activateStagedSecret(null);
    } catch (error) {
      if (!(error instanceof RoundFailed)) throw error;
      state.credentials = { ...state.credentials, stagedSecret: null };
      await project(
        entry(
          'system',
          'drop-staged-secret',
          state.status,
          state.status,
          `could not go live: ${error.error.kind} from ${error.error.environment}; the live secret stays`,
        ),
      );
    }
  }

  async function dropStagedSecret(i: OwnerActionInput): Promise<UpdateResult> {
    const staged = state.credentials.stagedSecret!;
    await CancellationScope.nonCancellable(() =>
      own('forgetSecretVersion', 'Forget the dropped staged secret', {
        serviceId: state.serviceId,
        secretVersion: staged.version,
      }),
    );
    state.credentials = { ...state.credentials, stagedSecret: null };
    await project(entry(i.actor.sub, 'drop-staged-secret', state.status, state.status, null));
    return result();
  }

  /** Under review back to draft; the previous review (if any) stays for comparison. */
  async function withdraw(i: OwnerActionInput): Promise<UpdateResult> {
    if (changeUnderReview(state)) {
      state.pendingChange = { ...state.pendingChange!, state: 'draft', submission: null };
      await project(changeEntry(i.actor.sub, 'withdraw', 'the change to the live service was withdrawn'));
      return result();
    }
    state.status = 'draft';
    state.approval = null;
    state.submission = null;
    await project(entry(i.actor.sub, 'withdraw', 'under_review', 'draft', null));
    return result();
  }

  /**
   * A service that never went live is deleted: its sandbox client (with policies and sessions) goes,
   * then its stored secrets; the workflow then completes. The read model keeps it for administrators.
   */
  async function deleteService(i: OwnerActionInput): Promise<UpdateResult> {
    const from = state.status;
    if (state.sandbox.revision !== null || state.sandbox.state !== 'none') {
      await untilDone(() =>
        acts.removeClient.executeWithOptions(activityOptions('Sandbox: remove Client'), [
          { environment: 'sandbox', clientId: state.serviceId },
        ]),
      );
      state.sandbox = { revision: null, state: 'none', lastError: null };
    }
    await CancellationScope.nonCancellable(() =>
      own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId }),
    );
    state.credentials = { ...state.credentials, stagedSecret: null };
    state.cleanup = { done: true, lastError: null };
    state.deletedAt = now();
    sandboxRetryDue = false;
    await project(entry(i.actor.sub, 'delete', from, from, null));
    return result();
  }

  /**
   * What production's apply activity gets for an approved submission: the snapshotted policies, or
   * (patch LOCAL_BOOKKEEPING) the derivation and the approved hash, checked again in the activity.
   */
  function approvedPoliciesInput(submission: SubmissionSnapshot) {
    if (!patched(LOCAL_BOOKKEEPING)) return { policies: submission.productionPolicies.policies };
    return {
      derive: {
        scopes: submission.registration.scopes.strings,
        organizationId: submission.registration.organizationId,
      },
      policyHash: submission.productionPolicies.policyHash,
    };
  }

  // ---- a change to a live service ----

  function changeEntry(actor: string, action: HistoryEntry['action'], reason: string | null): HistoryEntry {
    return { ...entry(actor, action, 'active', 'active', reason), revision: state.pendingChange!.revision };
  }

  /** Opens or edits the pending change; production keeps serving the approved revision. */
  async function editChange(i: EditInput): Promise<UpdateResult> {
    const before = state.pendingChange;
    const jwks = i.registration.authMethod.type === 'jwks_uri';
    state.pendingChange = {
      revision: (before?.revision ?? state.revision) + 1,
      state: 'draft',
      registration: i.registration,
      credentials: jwks
        ? {
            state: 'pending',
            checkedAt: null,
            jwksReport: null,
            acceptedThumbprints: state.credentials.acceptedThumbprints,
          }
        : { state: 'valid', checkedAt: now(), jwksReport: null, acceptedThumbprints: {} },
      submission: null,
      rejection: null,
    };
    await project(changeEntry(i.actor.sub, 'edit', 'a change to the live service'));
    if (jwks) await checkChangeCredentials();
    // The sandbox serves the change once its credentials are valid.
    await syncSandbox();
    return result();
  }

  async function checkChangeCredentials(): Promise<JwksReport | null> {
    const change = state.pendingChange!;
    const method = change.registration.authMethod;
    if (method.type !== 'jwks_uri') return null;
    const report = await acts.checkJwks.executeWithOptions(
      internalOptions('Fetch and validate the JWKS (change)'),
      [
        {
          serviceId: state.serviceId,
          jwksUri: method.jwksUri,
          previousThumbprints: change.credentials.acceptedThumbprints,
        },
      ],
    );
    state.pendingChange = {
      ...change,
      credentials: {
        state: report.valid ? 'valid' : 'invalid',
        checkedAt: report.checkedAt,
        jwksReport: report,
        acceptedThumbprints: report.valid ? report.thumbprints : change.credentials.acceptedThumbprints,
      },
    };
    await project(null);
    return report;
  }

  async function submitChange(i: SubmitInput): Promise<UpdateResult> {
    const report = await checkChangeCredentials();
    if (report && !report.valid) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialsInvalid,
        message: "the JWKS at the change's URI does not pass validation; see the JWKS report",
        details: [{ currentStatus: state.status, report }],
        nonRetryable: true,
      });
    }
    await syncSandbox();
    const change = state.pendingChange!;
    const productionPolicies = await own('derivePolicies', 'Derive production access policies (change)', {
      clientId: state.serviceId,
      scopes: change.registration.scopes.strings,
      organizationId: change.registration.organizationId,
    });
    state.pendingChange = {
      ...change,
      state: 'under_review',
      rejection: null,
      submission: {
        revision: change.revision,
        submittedAt: now(),
        submittedBy: i.actor.sub,
        registration: change.registration,
        productionPolicies,
      },
    };
    await project(changeEntry(i.actor.sub, 'submit', 'a change to the live service'));
    return result();
  }

  /**
   * Production gets the change with no gap: the new and changed policies first (the old ones still
   * there), then the Client (scopes, JWKS URI, Organization), then the policies the change no longer
   * has. A token issued before keeps working until its expiry; afterwards nothing the change removed
   * works with any token.
   */
  async function approveChange(i: ApproveInput, answer: (result: unknown) => void): Promise<void> {
    const change = state.pendingChange!;
    const report = await checkChangeCredentials();
    if (report && !report.valid) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialsInvalid,
        message: "the JWKS at the change's URI does not pass validation; see the JWKS report",
        details: [{ currentStatus: state.status, report }],
        nonRetryable: true,
      });
    }
    state.approval = provisioningApproval(i);
    await project(changeEntry(i.actor.sub, 'approve', 'a change to the live service'));
    answer(result());
    const submission = change.submission!;
    const clientId = state.serviceId;
    const policies = approvedPoliciesInput(submission);
    const steps: Array<() => Promise<void>> = [
      () =>
        acts.applyPolicies.executeWithOptions(
          activityOptions("Production: add the change's access policies"),
          [{ environment: 'production', clientId, ...policies, keepOthers: true }],
        ),
      () =>
        acts.upsertClient.executeWithOptions(activityOptions('Production: update Client to the change'), [
          {
            environment: 'production',
            serviceId: clientId,
            registration: submission.registration,
            secretVersion: state.credentials.secret?.version ?? null,
            active: true,
          },
        ]),
      () =>
        acts.applyPolicies.executeWithOptions(
          activityOptions('Production: remove policies the change dropped'),
          [{ environment: 'production', clientId, ...policies }],
        ),
    ];
    const failed = await provisionInSteps(steps);
    if (failed) {
      await project(changeEntry(i.actor.sub, 'approval-failed', failed.error.kind));
      return;
    }
    state.previousSubmission = state.submission;
    state.submission = submission;
    state.registration = submission.registration;
    state.revision = change.revision;
    state.credentials = {
      ...state.credentials,
      state: change.credentials.state,
      checkedAt: change.credentials.checkedAt ?? state.credentials.checkedAt,
      jwksReport: change.credentials.jwksReport ?? state.credentials.jwksReport,
      acceptedThumbprints:
        submission.registration.authMethod.type === 'jwks_uri'
          ? change.credentials.acceptedThumbprints
          : state.credentials.acceptedThumbprints,
    };
    state.pendingChange = null;
    state.approval = null;
    await project(entry(i.actor.sub, 'approval-completed', 'active', 'active', 'the change is live'));
    await syncSandbox();
  }

  async function rejectChange(i: DecisionInput): Promise<UpdateResult> {
    state.pendingChange = {
      ...state.pendingChange!,
      state: 'rejected',
      rejection: { kind: 'declined', reason: i.reason, by: i.actor.sub, at: now() },
    };
    await project(changeEntry(i.actor.sub, 'reject', i.reason));
    return result();
  }

  /** The change is dropped: the live revision stays, and the sandbox returns to it. */
  async function dropPendingChange(i: OwnerActionInput): Promise<UpdateResult> {
    const dropped: PendingChange = state.pendingChange!;
    state.pendingChange = null;
    await project({
      ...entry(i.actor.sub, 'drop-change', 'active', 'active', null),
      revision: dropped.revision,
    });
    await syncSandbox();
    return result();
  }

  // ---- credentials and sandbox ----

  async function checkCredentials(): Promise<JwksReport | null> {
    const method = state.registration.authMethod;
    if (method.type !== 'jwks_uri') return null;
    const report = await acts.checkJwks.executeWithOptions(internalOptions('Fetch and validate the JWKS'), [
      {
        serviceId: state.serviceId,
        jwksUri: method.jwksUri,
        previousThumbprints: state.credentials.acceptedThumbprints,
      },
    ]);
    state.credentials = {
      ...state.credentials,
      state: report.valid ? 'valid' : 'invalid',
      checkedAt: report.checkedAt,
      jwksReport: report,
      acceptedThumbprints: report.valid ? (report.thumbprints ?? {}) : state.credentials.acceptedThumbprints,
    };
    await project(null);
    return report;
  }

  /** A fresh JWKS check before submit and approve; failing, the update fails with the report (409). */
  async function requireValidCredentials(): Promise<void> {
    const report = await checkCredentials();
    if (report && !report.valid) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialsInvalid,
        message: 'the JWKS at the registered URI does not pass validation; see the JWKS report',
        details: [{ currentStatus: state.status, report }],
        nonRetryable: true,
      });
    }
  }

  /**
   * The stored ciphertext is deleted once it was shown and every Aidbox that holds the client has
   * the secret (docs/architecture.md, Secrets): while the sandbox client is still to be created, it needs it.
   */
  async function settleSecret(): Promise<void> {
    const secret = state.credentials.secret;
    if (!secret || !state.productionProvisioned || state.sandbox.revision === null) return;
    await CancellationScope.nonCancellable(() =>
      own('settleSecrets', 'Settle the stored secret', {
        serviceId: state.serviceId,
        secretVersion: secret.version,
        productionHasSecret: true,
      }),
    );
  }

  /** Provisions the sandbox when the credentials are valid and it serves an older revision (or none). */
  /**
   * What the sandbox should serve: a live service's pending change once its credentials are valid
   * (the developer tries it before review), otherwise the service's own revision.
   */
  function sandboxTarget(): { revision: number; registration: Registration; valid: boolean } {
    const change = state.pendingChange;
    if (change && change.credentials.state === 'valid')
      return { revision: change.revision, registration: change.registration, valid: true };
    return {
      revision: state.revision,
      registration: state.registration,
      valid: state.credentials.state === 'valid',
    };
  }

  async function syncSandbox(): Promise<void> {
    const target = sandboxTarget();
    if (target.valid && state.sandbox.revision !== target.revision) await provisionSandbox();
  }

  async function provisionSandbox(): Promise<void> {
    const { revision, registration } = sandboxTarget();
    state.sandbox = { ...state.sandbox, state: 'provisioning' };
    const failure = await inRounds(
      async () => {
        // The sandbox has no OrgBAC (docs/aidbox-contract.md §3): its policies are never organization-bound.
        // With the patch, the apply activity derives them itself: they never travel through history.
        const derivation = { scopes: registration.scopes.strings, organizationId: null };
        const policies = patched(LOCAL_BOOKKEEPING)
          ? { derive: derivation }
          : {
              policies: (
                await own('derivePolicies', 'Derive sandbox access policies', {
                  clientId: state.serviceId,
                  ...derivation,
                })
              ).policies,
            };
        await acts.upsertClient.executeWithOptions(activityOptions('Sandbox: upsert Client'), [
          {
            environment: 'sandbox',
            serviceId: state.serviceId,
            registration,
            secretVersion: state.credentials.secret?.version ?? null,
            active: true,
          },
        ]);
        await acts.applyPolicies.executeWithOptions(activityOptions('Sandbox: apply access policies'), [
          { environment: 'sandbox', clientId: state.serviceId, ...policies },
        ]);
      },
      async () => undefined,
      1,
    );
    if (failure) {
      // A failed (re-)provisioning never removes what the sandbox already serves.
      state.sandbox = { ...state.sandbox, state: 'failed', lastError: failure.error };
      sandboxRetryDue = !failure.permanent;
    } else {
      state.sandbox = { revision, state: 'ready', lastError: null };
      sandboxRetryDue = false;
      await settleSecret();
    }
    await project(null);
  }

  /**
   * Runs `run` in rounds: each round is one activity run with a bounded number of attempts. After
   * a failed round, `onRoundFailed` records it (the service shows why it waits), the workflow
   * sleeps and tries again. A permanent failure, or `maxRounds` exhausted, is returned.
   */
  async function inRounds(
    run: () => Promise<void>,
    onRoundFailed: (failed: RoundFailed) => Promise<void>,
    maxRounds = Number.POSITIVE_INFINITY,
  ): Promise<RoundFailed | undefined> {
    for (let round = 1; ; round += 1) {
      try {
        await run();
        return undefined;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failed = describeFailure(error);
        if (failed.permanent || round >= maxRounds) return failed;
        await onRoundFailed(failed);
        await sleep(timing.roundDelayMs);
      }
    }
  }

  function describeFailure(error: unknown): RoundFailed {
    if (!(error instanceof ActivityFailure)) throw error;
    const cause = error.cause;
    const operation = error.activityType ?? 'activity';
    const details = (cause instanceof ApplicationFailure ? cause.details?.[0] : undefined) as
      { status?: number; environment?: Environment; attempt?: number } | undefined;
    const provisioningError: ProvisioningError = {
      environment: details?.environment ?? 'sandbox',
      operation,
      status: details?.status ?? null,
      kind:
        cause instanceof ApplicationFailure
          ? (cause.type ?? 'Error')
          : cause instanceof TimeoutFailure
            ? 'Timeout'
            : 'Error',
      at: now(),
    };
    const permanent = cause instanceof ApplicationFailure && cause.nonRetryable === true;
    return new RoundFailed(provisioningError, details?.attempt ?? timing.attemptsPerRound, permanent);
  }

  // ---- projection and visibility ----

  async function project(history: HistoryEntry | null): Promise<void> {
    state.projectionVersion += 1;
    state.updatedAt = now();
    publishSearchAttributes();
    // Shielded from a deactivation's cancel: a change already made to the state is always recorded
    // with its history entry (the projection is quick; only a PostgreSQL outage makes it wait).
    const outcome = await CancellationScope.nonCancellable(() =>
      own('projectService', 'Project to the read model', {
        state,
        history,
        seq: workflowInfo().historyLength,
      }),
    );
    // Histories recorded before projection outcomes existed answer nothing here.
    if (outcome?.projectionError) jobProjectionError = outcome.projectionError;
    // Every transition writes a history entry: its notifications start here, never awaited (notifications.ts).
    notify.afterProjection(history);
  }

  /** Deactivation must finish whatever the read model does: a refused projection is shown, not fatal. */
  async function projectDespiteRefusal(history: HistoryEntry | null): Promise<void> {
    try {
      await project(history);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
    }
  }

  function publishSearchAttributes() {
    upsertSearchAttributes([
      { key: BackendServiceStatus, value: state.status },
      { key: BackendServiceOwner, value: state.ownerId },
      { key: BackendServiceOrganization, value: state.registration.organizationId ?? 'none' },
      { key: BackendServiceAuthMethod, value: state.registration.authMethod.type },
      ...(state.credentials.health
        ? [{ key: BackendServiceCredentialHealth, value: state.credentials.health.state }]
        : []),
      ...((submissionUnderReview(state) ?? state.submission)
        ? [
            {
              key: BackendServiceSubmittedAt,
              value: new Date((submissionUnderReview(state) ?? state.submission)!.submittedAt),
            },
          ]
        : []),
    ]);
    setCurrentDetails(currentDetails());
  }

  function currentDetails(): string {
    const lines = [`**${state.serviceId}**: ${state.status.replace('_', ' ')} (revision ${state.revision})`];
    lines.push(`Credentials: ${state.registration.authMethod.type}, ${state.credentials.state}`);
    lines.push(
      `Sandbox client: ${state.sandbox.state}${state.sandbox.revision !== null ? ` (revision ${state.sandbox.revision})` : ''}`,
    );
    if (state.approval) {
      const error = state.approval.lastError;
      lines.push(
        `Approval ${state.approval.state} by ${state.approval.by}; attempts ${state.approval.attempts}` +
          (error
            ? `; last error ${error.kind}${error.status ? ` ${error.status}` : ''} in ${error.environment}`
            : ''),
      );
    }
    if (state.rejection) lines.push(`Rejected (${state.rejection.kind}) by ${state.rejection.by}`);
    return lines.join('\n');
  }

  function result(): UpdateResult {
    return { status: state.status, revision: state.revision, projectionVersion: state.projectionVersion };
  }

  function entry(
    actor: string,
    action: HistoryEntry['action'],
    from: HistoryEntry['from'],
    to: HistoryEntry['to'],
    reason: string | null,
  ): HistoryEntry {
    return { at: now(), actor, action, from, to, reason, revision: state.revision };
  }
}

function initialState(input: BackendServiceInput): ServiceState {
  return {
    serviceId: input.serviceId,
    ownerId: input.ownerId,
    registration: input.registration,
    status: 'draft',
    revision: 1,
    rejection: null,
    approval: null,
    credentials: {
      state: 'pending',
      checkedAt: null,
      secret: null,
      jwksReport: null,
      acceptedThumbprints: {},
    },
    sandbox: { revision: null, state: 'none', lastError: null },
    productionProvisioned: false,
    cleanup: null,
    submission: null,
    previousSubmission: null,
    createdAt: input.createdAt,
    updatedAt: input.createdAt,
    projectionVersion: 0,
  };
}

function refusalFailure(refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: refusal.type,
    message: refusal.message,
    details: [{ currentStatus: refusal.currentStatus, field: refusal.field ?? null }],
    nonRetryable: true,
  });
}

const now = () => new Date().toISOString();
