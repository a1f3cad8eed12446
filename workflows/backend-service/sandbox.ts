import { CancellationScope } from '@temporalio/workflow';
import { patched } from './patches.js';
import type { Rounds } from './rounds.js';
import { LOCAL_BOOKKEEPING, type RunContext } from './run-context.js';
import type { Registration } from './service-state.js';

/**
 * The sandbox client (docs/architecture.md, "The sandbox client"): provisioned as soon as the
 * credentials are valid, re-provisioned when an edit's credentials are, never removed by a failed
 * re-check. A failed provisioning is retried on the main loop's timer (`flags.sandboxRetryDue`).
 */
export function createSandbox(ctx: RunContext, rounds: Rounds) {
  const { state, acts } = ctx;

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

  /** Provisions the sandbox when the credentials are valid and it serves an older revision (or none). */
  async function syncSandbox(): Promise<void> {
    const target = sandboxTarget();
    if (target.valid && state.sandbox.revision !== target.revision) await provisionSandbox();
  }

  async function provisionSandbox(): Promise<void> {
    const { revision, registration } = sandboxTarget();
    state.sandbox = { ...state.sandbox, state: 'provisioning' };
    const failure = await rounds.inRounds(
      async () => {
        // The sandbox has no OrgBAC (docs/aidbox-contract.md §3): its policies are never organization-bound.
        // With the patch, the apply activity derives them itself: they never travel through history.
        const derivation = { scopes: registration.scopes.strings, organizationId: null };
        const policies = patched(LOCAL_BOOKKEEPING)
          ? { derive: derivation }
          : {
              policies: (
                await ctx.own('derivePolicies', 'Derive sandbox access policies', {
                  clientId: state.serviceId,
                  ...derivation,
                })
              ).policies,
            };
        await acts.upsertClient.executeWithOptions(ctx.aidboxCallOptions('Sandbox: upsert Client'), [
          {
            environment: 'sandbox',
            serviceId: state.serviceId,
            registration,
            secretVersion: state.credentials.secret?.version ?? null,
            active: true,
          },
        ]);
        await acts.applyPolicies.executeWithOptions(ctx.aidboxCallOptions('Sandbox: apply access policies'), [
          { environment: 'sandbox', clientId: state.serviceId, ...policies },
        ]);
      },
      async () => undefined,
      1,
    );
    if (failure) {
      // A failed (re-)provisioning never removes what the sandbox already serves.
      state.sandbox = { ...state.sandbox, state: 'failed', lastError: failure.error };
      ctx.flags.sandboxRetryDue = !failure.permanent;
    } else {
      state.sandbox = { revision, state: 'ready', lastError: null };
      ctx.flags.sandboxRetryDue = false;
      await settleSecret();
    }
    await ctx.project(null);
  }

  /**
   * The stored ciphertext is deleted once it was shown and every Aidbox that holds the client has
   * the secret (docs/architecture.md, Secrets): while the sandbox client is still to be created, it needs it.
   */
  async function settleSecret(): Promise<void> {
    const secret = state.credentials.secret;
    if (!secret || !state.productionProvisioned || state.sandbox.revision === null) return;
    await CancellationScope.nonCancellable(() =>
      ctx.own('settleSecrets', 'Settle the stored secret', {
        serviceId: state.serviceId,
        secretVersion: secret.version,
      }),
    );
  }

  return { syncSandbox, provisionSandbox, settleSecret };
}

export type Sandbox = ReturnType<typeof createSandbox>;
