import { ApplicationFailure } from '@temporalio/workflow';
import type { JwksReport } from '../../credentials/jwks-report.js';
import { FailureType } from './failure-types.js';
import type { DecisionInput, EditInput, OwnerActionInput, SubmitInput, UpdateResult } from './inputs.js';
import { now, type RunContext } from './run-context.js';
import type { Sandbox } from './sandbox.js';
import type { HistoryEntry, PendingChange } from './service-state.js';

/**
 * A change to a live service (README, "Changing a live service"): a pending change under its own
 * revision, edited, submitted, rejected or dropped while production keeps serving the approved
 * revision. Its approval is approval-job.ts's.
 */
export function createLiveChangeJobs(ctx: RunContext, sandbox: Sandbox) {
  const { state, acts } = ctx;

  function changeEntry(actor: string, action: HistoryEntry['action'], reason: string | null): HistoryEntry {
    return {
      ...ctx.entry(actor, action, 'active', 'active', reason),
      revision: state.pendingChange!.revision,
    };
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
    await ctx.project(changeEntry(i.actor.sub, 'edit', 'a change to the live service'));
    if (jwks) await checkChangeCredentials();
    // The sandbox serves the change once its credentials are valid.
    await sandbox.syncSandbox();
    return ctx.result();
  }

  async function checkChangeCredentials(): Promise<JwksReport | null> {
    const change = state.pendingChange!;
    const method = change.registration.authMethod;
    if (method.type !== 'jwks_uri') return null;
    const report = await acts.checkJwks.executeWithOptions(
      ctx.internalOptions('Fetch and validate the JWKS (change)'),
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
    await ctx.project(null);
    return report;
  }

  /** A fresh check of the change's JWKS before submit and approve; failing, the update fails with the report (409). */
  async function requireValidChangeCredentials(): Promise<void> {
    const report = await checkChangeCredentials();
    if (report && !report.valid) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialsInvalid,
        message: "the JWKS at the change's URI does not pass validation; see the JWKS report",
        details: [{ currentStatus: state.status, report }],
        nonRetryable: true,
      });
    }
  }

  async function submitChange(i: SubmitInput): Promise<UpdateResult> {
    await requireValidChangeCredentials();
    await sandbox.syncSandbox();
    const change = state.pendingChange!;
    const productionPolicies = await ctx.own('derivePolicies', 'Derive production access policies (change)', {
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
    await ctx.project(changeEntry(i.actor.sub, 'submit', 'a change to the live service'));
    return ctx.result();
  }

  async function rejectChange(i: DecisionInput): Promise<UpdateResult> {
    state.pendingChange = {
      ...state.pendingChange!,
      state: 'rejected',
      rejection: { kind: 'declined', reason: i.reason, by: i.actor.sub, at: now() },
    };
    await ctx.project(changeEntry(i.actor.sub, 'reject', i.reason));
    return ctx.result();
  }

  /** The change is dropped: the live revision stays, and the sandbox returns to it. */
  async function dropPendingChange(i: OwnerActionInput): Promise<UpdateResult> {
    const dropped: PendingChange = state.pendingChange!;
    state.pendingChange = null;
    await ctx.project({
      ...ctx.entry(i.actor.sub, 'drop-change', 'active', 'active', null),
      revision: dropped.revision,
    });
    await sandbox.syncSandbox();
    return ctx.result();
  }

  return {
    changeEntry,
    editChange,
    requireValidChangeCredentials,
    submitChange,
    rejectChange,
    dropPendingChange,
  };
}

export type LiveChangeJobs = ReturnType<typeof createLiveChangeJobs>;
