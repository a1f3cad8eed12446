import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  sleep,
} from '@temporalio/workflow';
import { now } from './run-context.js';
import type { RetryTiming } from './retry-timing.js';
import type { Environment, ProvisioningError } from './service-state.js';

/** An Aidbox step that did not succeed: what failed (status and kind only), after how many attempts. */
export class RoundFailed extends Error {
  constructor(
    readonly error: ProvisioningError,
    readonly attempts: number,
    readonly permanent: boolean,
  ) {
    super(`${error.operation} failed in ${error.environment}: ${error.kind}`);
  }
}

/** How many rounds a step gets: a number, or whether the failed round `round` (from 1) is the last. */
export type RoundLimit = number | ((round: number) => boolean);

/**
 * The retry-in-rounds engine for Aidbox calls (docs/architecture.md, "Approval in progress"): each
 * round is one activity run with a bounded number of attempts; between rounds the workflow records
 * why it waits and sleeps on a durable timer.
 */
export function createRounds(timing: RetryTiming) {
  /**
   * Runs `run` in rounds. After a failed round, `onRoundFailed` records it (the service shows why it
   * waits), the workflow sleeps and tries again. A permanent failure, or the last round failed, is
   * returned.
   */
  async function inRounds(
    run: () => Promise<void>,
    onRoundFailed: (failed: RoundFailed) => Promise<void>,
    maxRounds: RoundLimit = Number.POSITIVE_INFINITY,
  ): Promise<RoundFailed | undefined> {
    for (let round = 1; ; round += 1) {
      try {
        await run();
        return undefined;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failed = describeFailure(error);
        if (failed.permanent || isLastRound(maxRounds, round)) return failed;
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

  return { inRounds };
}

export type Rounds = ReturnType<typeof createRounds>;

const isLastRound = (limit: RoundLimit, round: number) =>
  typeof limit === 'number' ? round >= limit : limit(round);
