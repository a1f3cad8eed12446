import { CancellationScope } from '@temporalio/workflow';
import type { OwnerActionInput, RotateSecretInput, RotateSecretResult, UpdateResult } from './inputs.js';
import { RoundFailed, type Rounds } from './rounds.js';
import { cutOff } from './rules.js';
import { now, type RunContext } from './run-context.js';
import type { Sandbox } from './sandbox.js';
import type { Environment } from './service-state.js';

/**
 * Secret rotation (README, "Secret rotation"): at once, or staged to go live at a time on a durable
 * timer (activated early or dropped by the owner). Aidbox keeps one secret per Client, so the new
 * one replaces the old in every Aidbox that holds the client.
 */
export function createRotationJobs(ctx: RunContext, rounds: Rounds, sandbox: Sandbox) {
  const { state, acts } = ctx;

  /** Where the client is held: the Aidboxes a new secret must reach. */
  function environments(): Environment[] {
    const held: Environment[] = [];
    if (state.sandbox.revision !== null) held.push('sandbox');
    if (state.productionProvisioned) held.push('production');
    return held;
  }

  async function rotateSecret(i: RotateSecretInput): Promise<RotateSecretResult> {
    const secret = await ctx.own('generateClientSecret', 'Generate client secret (rotation)', {
      serviceId: state.serviceId,
      secretVersion: nextSecretVersion(),
    });
    state.credentials = { ...state.credentials, highestSecretVersion: secret.secretVersion };
    const held = environments();
    if (held.length > 0) {
      const failure = await rounds.inRounds(
        () =>
          acts.provisionClientSecret.executeWithOptions(
            ctx.aidboxCallOptions(`Provision rotated secret to ${held.join(' and ')}`),
            [{ serviceId: state.serviceId, secretVersion: secret.secretVersion, environments: held }],
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
    await sandbox.settleSecret();
    await ctx.project(ctx.entry(i.actor.sub, 'rotate-secret', state.status, state.status, null));
    return { ...ctx.result(), secretVersion: secret.secretVersion, fingerprint: secret.fingerprint };
  }

  function nextSecretVersion(): number {
    const c = state.credentials;
    return Math.max(c.highestSecretVersion ?? 0, c.secret?.version ?? 0, c.stagedSecret?.version ?? 0) + 1;
  }

  /** A planned rotation: the next secret is generated (and shown once) now, and goes live at `activateAt`. */
  async function stageSecret(i: RotateSecretInput, activateAt: string): Promise<RotateSecretResult> {
    const secret = await ctx.own('generateClientSecret', 'Generate client secret (staged rotation)', {
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
    await ctx.project(
      ctx.entry(i.actor.sub, 'stage-secret', state.status, state.status, `goes live at ${activateAt}`),
    );
    return { ...ctx.result(), secretVersion: secret.secretVersion, fingerprint: secret.fingerprint };
  }

  /** Milliseconds until the staged secret is due (0: now), or undefined without one. */
  function stagedSecretDueInMs(): number | undefined {
    const staged = state.credentials.stagedSecret;
    if (!staged || cutOff(state) || state.deletedAt) return undefined;
    return Math.max(0, Date.parse(staged.activateAt) - Date.now());
  }

  /**
   * The staged secret goes live: pushed to every Aidbox holding the client (whose earlier sessions are
   * revoked), then recorded. On its timer (`actor` null) a failing Aidbox is retried in rounds until it
   * answers; asked for by the owner, three rounds, then the update fails and the staged secret stays.
   */
  async function activateStagedSecret(actor: string | null): Promise<void> {
    const staged = state.credentials.stagedSecret;
    if (!staged) return;
    const held = environments();
    if (held.length > 0) {
      const push = () =>
        acts.provisionClientSecret.executeWithOptions(
          ctx.aidboxCallOptions(`Provision staged secret to ${held.join(' and ')}`),
          [{ serviceId: state.serviceId, secretVersion: staged.version, environments: held }],
        );
      const failure = await rounds.inRounds(
        push,
        async (failed) => {
          state.sandbox = { ...state.sandbox, lastError: failed.error };
          await ctx.project(null);
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
    await sandbox.settleSecret();
    await ctx.project(
      ctx.entry(
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
      await ctx.project(
        ctx.entry(
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
      ctx.own('forgetSecretVersion', 'Forget the dropped staged secret', {
        serviceId: state.serviceId,
        secretVersion: staged.version,
      }),
    );
    state.credentials = { ...state.credentials, stagedSecret: null };
    await ctx.project(ctx.entry(i.actor.sub, 'drop-staged-secret', state.status, state.status, null));
    return ctx.result();
  }

  return {
    rotateSecret,
    stageSecret,
    stagedSecretDueInMs,
    activateStagedSecret,
    activateStagedSecretOnTimer,
    dropStagedSecret,
  };
}

export type RotationJobs = ReturnType<typeof createRotationJobs>;
