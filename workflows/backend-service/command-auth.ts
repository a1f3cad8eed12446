import {
  ApplicationFailure,
  currentUpdateInfo,
  log,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { patched } from './patches.js';
import type { CommandAuthActivities, CommandCheckResult } from '../../activities/command-auth-contract.js';
import type { HistoryEntry, ServiceState } from './service-state.js';
import type { Actor, BackendServiceInput, RecentCommand } from './inputs.js';
import { FailureType } from './failure-types.js';

/**
 * Only the API can command a service (docs/decisions/signed-commands.md). Every update handler
 * first awaits `authorizeUpdate`: a local activity judges the command token with the worker's
 * verification keys, the workflow refuses a jti it has seen, and the job then runs as the actor
 * the token names. A refusal fails the update with CommandNotAuthorized, changes nothing, and
 * queues a `refused-command` entry (the claimed actor, unverified) for the audit history.
 *
 * Both checks are behind `patched()`, so workflows started before them replay as they ran.
 */
export const SIGNED_UPDATES_PATCH = 'signed-commands-updates';
export const SIGNED_START_PATCH = 'signed-commands-start';

/** Tokens live at most five minutes; this bounds what is kept even under a flood of commands. */
const RECENT_COMMANDS_KEPT = 1_000;
const START = 'start';

const { verifyCommand } = proxyLocalActivities<CommandAuthActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
});

export interface CommandAuth {
  /** Carried across continue-as-new, like recentUpdates. */
  readonly recentCommands: RecentCommand[];
  readonly state: () => ServiceState;
  /** Queues the projection of a refused command's history entry (the main loop projects it). */
  readonly recordRefusal: (entry: HistoryEntry) => void;
}

export function createCommandAuth(options: {
  carried: RecentCommand[] | undefined;
  state: () => ServiceState;
  recordRefusal: (entry: HistoryEntry) => void;
}): CommandAuth {
  return {
    recentCommands: [...(options.carried ?? [])],
    state: options.state,
    recordRefusal: options.recordRefusal,
  };
}

/**
 * The first thing an update handler does, before anything is queued or cancelled: resolves to the
 * argument with the verified actor, or throws CommandNotAuthorized. The token's expiry is judged
 * now, when the update arrives, not when its job runs.
 */
export async function authorizeUpdate<I extends { actor: Actor }>(
  auth: CommandAuth,
  name: string,
  input: I,
): Promise<I> {
  if (!patched(SIGNED_UPDATES_PATCH)) return input;
  let check = await verifyArgument(name, input);
  if (check.verified && check.jti !== null) check = rememberJti(auth, check);
  if (!check.verified) {
    const state = auth.state();
    auth.recordRefusal({
      at: new Date().toISOString(),
      actor: check.claimedActor,
      action: 'refused-command',
      from: state.status,
      to: state.status,
      reason: `unverified: ${name} refused, ${check.reason}`,
      revision: state.revision,
    });
    throw ApplicationFailure.create({
      type: FailureType.CommandNotAuthorized,
      message: `the ${name} command is not authorized: ${check.reason}`,
      details: [{ currentStatus: state.status, field: null }],
      nonRetryable: true,
    });
  }
  return { ...input, actor: check.actor };
}

/** What a start that did not come from the API returns: it provisioned nothing. */
export interface RefusedStart {
  refused: typeof FailureType.CommandNotAuthorized;
  serviceId: string;
  reason: string;
  /** Whom the start claimed to come from: unverified. */
  claimedActor: string;
}

/**
 * At the very start of a run: a first run must carry a valid start token. A run continued as new
 * (its input carried by the workflow itself) is not a command and is not judged again.
 */
export async function refuseForgedStart(input: BackendServiceInput): Promise<RefusedStart | undefined> {
  if (input.carried && workflowInfo().continuedFromExecutionRunId) return undefined;
  if (!patched(SIGNED_START_PATCH)) return undefined;
  const check = await verifyArgument(START, input);
  if (check.verified) return undefined;
  log.warn('forged start refused: nothing provisioned', {
    serviceId: input.serviceId,
    claimedActor: check.claimedActor,
    reason: check.reason,
  });
  return {
    refused: FailureType.CommandNotAuthorized,
    serviceId: input.serviceId,
    reason: check.reason,
    claimedActor: check.claimedActor,
  };
}

async function verifyArgument(name: string, argument: unknown): Promise<CommandCheckResult> {
  try {
    return await verifyCommand({ workflowId: workflowInfo().workflowId, name, argument });
  } catch {
    const claimed = (argument as { actor?: { sub?: unknown } } | null)?.actor?.sub;
    return {
      verified: false,
      reason: 'the command could not be verified',
      claimedActor: typeof claimed === 'string' ? claimed : 'unknown',
    };
  }
}

/** A jti is accepted once; a retry of the same update (same update ID) is no replay. */
function rememberJti(
  auth: CommandAuth,
  check: Extract<CommandCheckResult, { verified: true }>,
): CommandCheckResult {
  const recent = auth.recentCommands;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const expired = recent.filter((c) => c.exp < nowSeconds).length;
  if (expired > 0) recent.splice(0, recent.length, ...recent.filter((c) => c.exp >= nowSeconds));
  const updateId = currentUpdateInfo()?.id ?? null;
  const seen = recent.find((c) => c.jti === check.jti);
  if (seen && seen.updateId !== updateId) {
    return {
      verified: false,
      reason: 'the command token was used before (replayed jti)',
      claimedActor: check.actor.sub,
    };
  }
  if (!seen) {
    recent.push({ jti: check.jti!, updateId, exp: check.exp });
    if (recent.length > RECENT_COMMANDS_KEPT) recent.splice(0, recent.length - RECENT_COMMANDS_KEPT);
  }
  return check;
}
