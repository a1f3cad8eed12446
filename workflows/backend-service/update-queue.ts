import {
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  isCancellation,
  setHandler,
} from '@temporalio/workflow';
import { patched } from './patches.js';
import type { UpdateDefinition } from '@temporalio/common';
import { authorizeUpdate, createCommandAuth } from './command-auth.js';
import type {
  Actor,
  ApproveInput,
  DecisionInput,
  EditInput,
  OwnerActionInput,
  RecentUpdate,
  RecheckCredentialsInput,
  RotateSecretInput,
  SubmitInput,
} from './inputs.js';
import type { Refusal } from './rules.js';
import type { RunCore } from './run-context.js';
import type { HistoryEntry } from './service-state.js';

/** How many recent update IDs survive continue-as-new, so a retried update is applied once across runs. */
const RECENT_UPDATES_KEPT = 200;

/**
 * Patch: a deactivation goes to the front of the queue, cancels the job in progress, and cuts
 * production off before anything else. Histories recorded before it keep the old order.
 */
const DEACTIVATION_FIRST = 'deactivation-first';

export type Job =
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

export interface QueuedJob {
  job: Job;
  /** Set once the job has an answer for its update (it may keep working after, as approve does). */
  outcome?: { result: unknown } | { failure: ApplicationFailure };
  /** A deactivation that jumped the queue: it cuts production off first (patch DEACTIVATION_FIRST). */
  first?: boolean;
}

/**
 * The job queue (docs/architecture.md, "The job queue and the main loop"). Update handlers do not
 * call activities: once its validator accepted it, a handler verifies the command token, answers at
 * once if the same update ID was already applied, queues a job and waits for its outcome, which the
 * main loop sets. Deactivation and revoke jump the queue.
 */
export function createUpdateQueue(core: Pick<RunCore, 'input' | 'state'>) {
  const { input, state } = core;
  const recentUpdates: RecentUpdate[] = [...(input.carried?.recentUpdates ?? [])];
  const queue: QueuedJob[] = [];
  if (!input.carried) queue.push({ job: { kind: 'setup' } });
  /** The job in progress and the scope that can cancel it (deactivation does). */
  let running: { queued: QueuedJob | null; scope: CancellationScope } | undefined;
  const commandAuth = createCommandAuth({
    carried: input.carried?.recentCommands,
    state: () => state,
    recordRefusal: (entry) => queue.push({ job: { kind: 'refusedCommand', entry } }),
  });

  function register<Ret, I extends { actor: Actor }>(
    definition: UpdateDefinition<Ret, [I]>,
    refuseFn: (state: RunCore['state'], input: I) => Refusal | undefined,
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

  /** Runs one piece of work (a job, or timer work when `queued` is null) in a scope a deactivation can cancel. */
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

  return {
    /** Waiting jobs, oldest first (a deactivation that jumped the queue first). */
    queue,
    register,
    cancellable,
    /** What continue-as-new carries of the queue's memory: recent update IDs and command token IDs. */
    carry: () => ({ recentUpdates, recentCommands: commandAuth.recentCommands }),
  };
}

/** A refusal as the update's failure (the API maps its type to an HTTP answer). */
export function refusalFailure(refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: refusal.type,
    message: refusal.message,
    details: [{ currentStatus: refusal.currentStatus, field: refusal.field ?? null }],
    nonRetryable: true,
  });
}
