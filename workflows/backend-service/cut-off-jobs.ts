import { sleep } from '@temporalio/workflow';
import type { DecisionInput, UpdateResult } from './inputs.js';
import type { RoundFailed, Rounds } from './rounds.js';
import { now, type RunContext } from './run-context.js';

/**
 * Cutting a client off (docs/architecture.md, "Deactivation jumps the queue"): an administrator's
 * deactivation or the owner's revoke. Production is disabled first, then the sandbox client and the
 * stored secrets go; the workflow then completes. Final.
 */
export function createCutOffJobs(ctx: RunContext, rounds: Rounds) {
  const { state, acts } = ctx;

  /** Deactivation as recorded before the patch deactivation-first: the read model first, the boxes after. */
  async function deactivate(i: DecisionInput): Promise<UpdateResult> {
    state.status = 'rejected';
    state.rejection = { kind: 'deactivated', reason: i.reason, by: i.actor.sub, at: now() };
    await ctx.project(ctx.entry(i.actor.sub, 'deactivate', 'active', 'rejected', i.reason));
    // The update answers now; the main loop cuts production off and removes the sandbox client next.
    ctx.flags.cleanupPending = true;
    return ctx.result();
  }

  /**
   * Deactivation (patch deactivation-first) and revoke: production is cut off before anything else,
   * even before the read model hears of it; the update answers once production refused the client or
   * its first round failed (then the cut-off goes on in rounds, shown in `cleanup.lastError`). Then
   * the sandbox client goes, then the stored secrets. A read model that refuses the state never stops it.
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
    ctx.publishSearchAttributes();
    const cutOffProduction = () =>
      acts.disableClient.executeWithOptions(
        ctx.aidboxCallOptions('Production: disable Client, remove policies, revoke sessions'),
        [{ environment: 'production', clientId: state.serviceId }],
      );
    let productionCut = !state.productionProvisioned;
    if (!productionCut) {
      const failure = await rounds.inRounds(cutOffProduction, async () => undefined, 1);
      if (failure) state.cleanup = { done: false, lastError: failure.error };
      else productionCut = true;
    }
    const action = kind === 'deactivated' ? 'deactivate' : 'revoke';
    await ctx.projectDespiteRefusal(ctx.entry(i.actor.sub, action, from, 'rejected', i.reason));
    answer(ctx.result());
    if (!productionCut) await untilDone(cutOffProduction);
    await removeSandboxClient();
    await ctx.own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId });
    state.cleanup = { done: true, lastError: null };
    await ctx.projectDespiteRefusal(null);
  }

  /** The main loop's clean-up after a deactivation recorded before the patch deactivation-first. */
  async function cleanUpAfterDeactivation(): Promise<void> {
    const clientId = state.serviceId;
    state.cleanup = { done: false, lastError: null };
    if (state.productionProvisioned) {
      await untilDone(() =>
        acts.disableClient.executeWithOptions(
          ctx.aidboxCallOptions('Production: disable Client, remove policies, revoke sessions'),
          [{ environment: 'production', clientId }],
        ),
      );
    }
    await removeSandboxClient();
    await ctx.own('forgetSecrets', 'Forget the stored secrets', { serviceId: state.serviceId });
    ctx.flags.cleanupPending = false;
    state.cleanup = { done: true, lastError: null };
    await ctx.project(null);
  }

  /** The sandbox client (with its policies and sessions) goes, if there is one, retried until it does. */
  async function removeSandboxClient(): Promise<void> {
    if (state.sandbox.revision === null && state.sandbox.state === 'none') return;
    await untilDone(() =>
      acts.removeClient.executeWithOptions(ctx.aidboxCallOptions('Sandbox: remove Client'), [
        { environment: 'sandbox', clientId: state.serviceId },
      ]),
    );
    state.sandbox = { revision: null, state: 'none', lastError: null };
  }

  /** Retries an Aidbox step in rounds until it succeeds, recording each failed round in `cleanup`. */
  async function untilDone(run: () => Promise<void>): Promise<void> {
    for (;;) {
      const recordFailure = async (failed: RoundFailed) => {
        state.cleanup = { done: false, lastError: failed.error };
        await ctx.projectDespiteRefusal(null);
      };
      const failure = await rounds.inRounds(run, recordFailure);
      if (!failure) return;
      await recordFailure(failure);
      await sleep(ctx.timing.roundDelayMs);
    }
  }

  return { deactivate, deactivateFirst, cleanUpAfterDeactivation, removeSandboxClient };
}

export type CutOffJobs = ReturnType<typeof createCutOffJobs>;
