import { patched } from './patches.js';
import type { CredentialChecks } from './credential-checks.js';
import type { ApproveInput } from './inputs.js';
import type { LiveChangeJobs } from './live-change-jobs.js';
import { DEFAULT_PROVISIONING_MAX_ROUNDS } from './retry-timing.js';
import type { RoundFailed, Rounds } from './rounds.js';
import { changeUnderReview } from './rules.js';
import { LOCAL_BOOKKEEPING, now, type RunContext } from './run-context.js';
import type { Sandbox } from './sandbox.js';
import type { Approval, SubmissionSnapshot } from './service-state.js';

/**
 * Patch: an approval's provisioning gives up after `provisioningMaxRounds` failed rounds (input,
 * default 12) and ends as failed. Asked only once that many rounds have failed, so a history
 * recorded before it, whose provisioning went on longer, replays its later rounds.
 */
export const PROVISIONING_MAX_ROUNDS = 'provisioning-max-rounds';

/**
 * Approval (docs/architecture.md, "Approval in progress"): the update answers once the approval is
 * recorded, then production is provisioned in rounds, step by step; the service becomes `active`
 * (a new service) or the pending change goes live. A permanent error or the last round ends the
 * approval as `failed`: an administrator approves again or rejects.
 */
export function createApprovalJob(deps: {
  ctx: RunContext;
  rounds: Rounds;
  sandbox: Sandbox;
  credentials: CredentialChecks;
  liveChange: LiveChangeJobs;
}) {
  const { ctx, rounds, sandbox, credentials, liveChange } = deps;
  const { state, acts } = ctx;

  async function approve(i: ApproveInput, answer: (result: unknown) => void): Promise<void> {
    if (changeUnderReview(state)) return approveChange(i, answer);
    await credentials.requireValidCredentials();
    state.approval = provisioningApproval(i);
    await ctx.project(ctx.entry(i.actor.sub, 'approve', 'under_review', 'under_review', null));
    answer(ctx.result());
    await provisionProduction(i.actor.sub);
  }

  async function provisionProduction(approver: string): Promise<void> {
    const submission = state.submission!;
    const clientId = state.serviceId;
    // Production gets the Client inactive, then its policies, then active (docs/aidbox-contract.md §8,
    // "Ordering advice"): the client can never act before its policies exist.
    const failed = await provisionInSteps([
      () =>
        acts.upsertClient.executeWithOptions(ctx.aidboxCallOptions('Production: upsert Client (inactive)'), [
          {
            environment: 'production',
            serviceId: clientId,
            registration: submission.registration,
            secretVersion: state.credentials.secret?.version ?? null,
            active: false,
          },
        ]),
      () =>
        acts.applyPolicies.executeWithOptions(ctx.aidboxCallOptions('Production: apply access policies'), [
          { environment: 'production', clientId, ...approvedPoliciesInput(submission) },
        ]),
      () =>
        acts.setClientActive.executeWithOptions(ctx.aidboxCallOptions('Production: activate Client'), [
          { environment: 'production', clientId, active: true },
        ]),
    ]);
    if (failed) {
      await ctx.project(
        ctx.entry(approver, 'approval-failed', 'under_review', 'under_review', failed.error.kind),
      );
      return;
    }
    state.productionProvisioned = true;
    state.status = 'active';
    state.approval = null;
    await sandbox.settleSecret();
    await ctx.project(ctx.entry(approver, 'approval-completed', 'under_review', 'active', null));
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
   * approval (attempts, last error); a permanent failure or the last round (`provisioningMaxRounds`
   * failed rounds in all, patch PROVISIONING_MAX_ROUNDS) ends it as failed.
   */
  async function provisionInSteps(steps: Array<() => Promise<void>>): Promise<RoundFailed | undefined> {
    const maxRounds = ctx.input.provisioningMaxRounds ?? DEFAULT_PROVISIONING_MAX_ROUNDS;
    let roundsFailed = 0;
    const lastRound = () => roundsFailed + 1 >= maxRounds && patched(PROVISIONING_MAX_ROUNDS);
    for (const step of steps) {
      const failure = await rounds.inRounds(
        step,
        async (failed) => {
          roundsFailed += 1;
          state.approval = {
            ...state.approval!,
            attempts: state.approval!.attempts + failed.attempts,
            lastError: failed.error,
          };
          await ctx.project(null);
        },
        lastRound,
      );
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

  /**
   * Production gets the change with no gap: the new and changed policies first (the old ones still
   * there), then the Client (scopes, JWKS URI, Organization), then the policies the change no longer
   * has. A token issued before keeps working until its expiry; afterwards nothing the change removed
   * works with any token.
   */
  async function approveChange(i: ApproveInput, answer: (result: unknown) => void): Promise<void> {
    // The change as submitted: its revision and submission (the fresh check below replaces
    // state.pendingChange with the same change and new credentials).
    const change = state.pendingChange!;
    await liveChange.requireValidChangeCredentials();
    // The keys this approval's own check accepted: a key set rotated since submit is what
    // production will see tokens signed with (before: the submit-time check's, by mistake).
    const checked = state.pendingChange!.credentials;
    state.approval = provisioningApproval(i);
    await ctx.project(liveChange.changeEntry(i.actor.sub, 'approve', 'a change to the live service'));
    answer(ctx.result());
    const submission = change.submission!;
    const clientId = state.serviceId;
    const policies = approvedPoliciesInput(submission);
    const failed = await provisionInSteps([
      () =>
        acts.applyPolicies.executeWithOptions(
          ctx.aidboxCallOptions("Production: add the change's access policies"),
          [{ environment: 'production', clientId, ...policies, keepOthers: true }],
        ),
      () =>
        acts.upsertClient.executeWithOptions(
          ctx.aidboxCallOptions('Production: update Client to the change'),
          [
            {
              environment: 'production',
              serviceId: clientId,
              registration: submission.registration,
              secretVersion: state.credentials.secret?.version ?? null,
              active: true,
            },
          ],
        ),
      () =>
        acts.applyPolicies.executeWithOptions(
          ctx.aidboxCallOptions('Production: remove policies the change dropped'),
          [{ environment: 'production', clientId, ...policies }],
        ),
    ]);
    if (failed) {
      await ctx.project(liveChange.changeEntry(i.actor.sub, 'approval-failed', failed.error.kind));
      return;
    }
    state.previousSubmission = state.submission;
    state.submission = submission;
    state.registration = submission.registration;
    state.revision = change.revision;
    state.credentials = {
      ...state.credentials,
      state: checked.state,
      checkedAt: checked.checkedAt ?? state.credentials.checkedAt,
      jwksReport: checked.jwksReport ?? state.credentials.jwksReport,
      acceptedThumbprints:
        submission.registration.authMethod.type === 'jwks_uri'
          ? checked.acceptedThumbprints
          : state.credentials.acceptedThumbprints,
    };
    state.pendingChange = null;
    state.approval = null;
    await ctx.project(ctx.entry(i.actor.sub, 'approval-completed', 'active', 'active', 'the change is live'));
    await sandbox.syncSandbox();
  }

  return { approve };
}

export type ApprovalJob = ReturnType<typeof createApprovalJob>;
