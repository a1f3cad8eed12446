import { CancellationScope } from '@temporalio/workflow';
import type { CredentialChecks } from './credential-checks.js';
import type { CutOffJobs } from './cut-off-jobs.js';
import type { DecisionInput, EditInput, OwnerActionInput, SubmitInput, UpdateResult } from './inputs.js';
import type { LiveChangeJobs } from './live-change-jobs.js';
import { changeUnderReview } from './rules.js';
import { now, type RunContext } from './run-context.js';
import type { Sandbox } from './sandbox.js';
import type { HistoryEntry } from './service-state.js';

/**
 * A registration on its way to review: set up at creation, edited, submitted, withdrawn, rejected,
 * or deleted before it ever went live. On a live service, edit, submit, withdraw and reject act on
 * its pending change instead (live-change-jobs.ts).
 */
export function createRegistrationJobs(deps: {
  ctx: RunContext;
  sandbox: Sandbox;
  credentials: CredentialChecks;
  liveChange: LiveChangeJobs;
  cutOff: CutOffJobs;
}) {
  const { ctx, sandbox, credentials, liveChange, cutOff } = deps;
  const { state } = ctx;

  async function setUp(): Promise<void> {
    const created: HistoryEntry = ctx.entry(state.ownerId, 'create', null, 'draft', null);
    if (state.registration.authMethod.type === 'client_secret') {
      const secret = await ctx.own('generateClientSecret', 'Generate client secret', {
        serviceId: state.serviceId,
        secretVersion: 1,
      });
      state.credentials = {
        ...state.credentials,
        state: 'valid',
        checkedAt: now(),
        secret: { version: secret.secretVersion, fingerprint: secret.fingerprint, createdAt: now() },
      };
      await ctx.project(created);
    } else {
      await ctx.project(created);
      await credentials.checkCredentials();
    }
    await sandbox.syncSandbox();
  }

  async function edit(i: EditInput): Promise<UpdateResult> {
    if (state.status === 'active') return liveChange.editChange(i);
    const from = state.status;
    state.registration = i.registration;
    state.revision += 1;
    if (state.registration.authMethod.type === 'jwks_uri') {
      state.credentials = { ...state.credentials, state: 'pending' };
      await ctx.project(ctx.entry(i.actor.sub, 'edit', from, state.status, null));
      await credentials.checkCredentials();
    } else {
      await ctx.project(ctx.entry(i.actor.sub, 'edit', from, state.status, null));
    }
    // Until the edited credentials are valid, the last valid registration keeps serving the sandbox.
    await sandbox.syncSandbox();
    return ctx.result();
  }

  async function submit(i: SubmitInput): Promise<UpdateResult> {
    if (state.status === 'active') return liveChange.submitChange(i);
    await credentials.requireValidCredentials();
    await sandbox.syncSandbox();
    const productionPolicies = await ctx.own('derivePolicies', 'Derive production access policies', {
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
    await ctx.project(ctx.entry(i.actor.sub, 'submit', from, 'under_review', null));
    return ctx.result();
  }

  async function reject(i: DecisionInput): Promise<UpdateResult> {
    if (changeUnderReview(state)) return liveChange.rejectChange(i);
    state.status = 'rejected';
    state.approval = null;
    state.rejection = { kind: 'declined', reason: i.reason, by: i.actor.sub, at: now() };
    await ctx.project(ctx.entry(i.actor.sub, 'reject', 'under_review', 'rejected', i.reason));
    return ctx.result();
  }

  /** Under review back to draft; the previous review (if any) stays for comparison. */
  async function withdraw(i: OwnerActionInput): Promise<UpdateResult> {
    if (changeUnderReview(state)) {
      state.pendingChange = { ...state.pendingChange!, state: 'draft', submission: null };
      await ctx.project(
        liveChange.changeEntry(i.actor.sub, 'withdraw', 'the change to the live service was withdrawn'),
      );
      return ctx.result();
    }
    state.status = 'draft';
    state.approval = null;
    state.submission = null;
    await ctx.project(ctx.entry(i.actor.sub, 'withdraw', 'under_review', 'draft', null));
    return ctx.result();
  }

  /**
   * A service that never went live is deleted: its sandbox client (with policies and sessions) goes,
   * then its stored secrets; the workflow then completes. The read model keeps it for administrators.
   */
  async function deleteService(i: OwnerActionInput): Promise<UpdateResult> {
    const from = state.status;
    await cutOff.removeSandboxClient();
    await CancellationScope.nonCancellable(() =>
      ctx.own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId }),
    );
    state.credentials = { ...state.credentials, stagedSecret: null };
    state.cleanup = { done: true, lastError: null };
    state.deletedAt = now();
    ctx.flags.sandboxRetryDue = false;
    await ctx.project(ctx.entry(i.actor.sub, 'delete', from, from, null));
    return ctx.result();
  }

  return { setUp, edit, submit, reject, withdraw, deleteService };
}

export type RegistrationJobs = ReturnType<typeof createRegistrationJobs>;
