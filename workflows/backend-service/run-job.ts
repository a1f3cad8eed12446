import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { ApprovalJob } from './approval-job.js';
import type { CredentialChecks } from './credential-checks.js';
import type { CutOffJobs } from './cut-off-jobs.js';
import { FailureType } from './failure-types.js';
import type { LiveChangeJobs } from './live-change-jobs.js';
import type { RegistrationJobs } from './registration-jobs.js';
import type { RotationJobs } from './rotation-jobs.js';
import { RoundFailed } from './rounds.js';
import { validatorsByUpdate, type Refusal } from './rules.js';
import type { RunContext } from './run-context.js';
import type { ServiceState } from './service-state.js';
import { refusalFailure, type Job, type QueuedJob } from './update-queue.js';

/**
 * The main loop's one job at a time: re-checked against the current state (a job queued behind
 * another may find it changed), run, and answered. Every way a job can end sets its outcome, so no
 * update waits forever.
 */
export function createJobRunner(jobs: {
  ctx: RunContext;
  registration: RegistrationJobs;
  approval: ApprovalJob;
  liveChange: LiveChangeJobs;
  rotation: RotationJobs;
  cutOff: CutOffJobs;
  credentials: CredentialChecks;
}) {
  const { ctx, registration, approval, liveChange, rotation, cutOff, credentials } = jobs;
  const { state } = ctx;

  async function runJob(queued: QueuedJob): Promise<void> {
    const fail = (failure: ApplicationFailure) => (queued.outcome = { failure });
    const answer = (result: unknown) => {
      // The change stands, but the read model could not record it: the update says so (503), the
      // row shows projectionError, and the service goes on taking decisions.
      const projectionError = ctx.flags.jobProjectionError;
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
    const refusal = recheck(state, job);
    if (refusal) return void fail(refusalFailure(refusal));
    ctx.flags.jobProjectionError = undefined;
    try {
      switch (job.kind) {
        case 'setup':
          return await registration.setUp();
        case 'edit':
          return void answer(await registration.edit(job.input));
        case 'submit':
          return void answer(await registration.submit(job.input));
        case 'approve':
          return await approval.approve(job.input, answer);
        case 'reject':
          return void answer(await registration.reject(job.input));
        case 'deactivate':
          if (queued.first) return await cutOff.deactivateFirst(job.input, answer);
          return void answer(await cutOff.deactivate(job.input));
        case 'rotateSecret':
          return void answer(
            job.input.activateAt
              ? await rotation.stageSecret(job.input, job.input.activateAt)
              : await rotation.rotateSecret(job.input),
          );
        case 'recheckCredentials':
          return void answer(await credentials.recheckCredentials());
        case 'withdraw':
          return void answer(await registration.withdraw(job.input));
        case 'delete':
          return void answer(await registration.deleteService(job.input));
        case 'revoke':
          return await cutOff.deactivateFirst(job.input, answer, 'revoked-by-owner');
        case 'activateStagedSecret':
          await rotation.activateStagedSecret(job.input.actor.sub);
          return void answer(ctx.result());
        case 'dropStagedSecret':
          return void answer(await rotation.dropStagedSecret(job.input));
        case 'dropPendingChange':
          return void answer(await liveChange.dropPendingChange(job.input));
        case 'refusedCommand':
          return void answer(await ctx.project(job.entry));
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
            type: FailureType.ProvisioningFailed,
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

  return { runJob };
}

/** A job that carries an update's input (its kind is the update's name). */
type UpdateJob = Exclude<Job, { kind: 'setup' } | { kind: 'refusedCommand' }>;

/** A job queued behind another may find the state changed: the same rule as its validator, again. */
function recheck(state: ServiceState, job: Job): Refusal | undefined {
  if (job.kind === 'setup' || job.kind === 'refusedCommand') return undefined;
  // TypeScript cannot pair the union's input with the validator its kind picks from the table, so
  // the validator is widened to take any update's input.
  const validate = validatorsByUpdate[job.kind] as (
    s: ServiceState,
    input: UpdateJob['input'],
  ) => Refusal | undefined;
  return validate(state, job.input);
}
