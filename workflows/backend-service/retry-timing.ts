/** Timings of retries, from workflow input so tests run fast (docs/architecture.md, "Tests and the network rule"). */
export interface RetryTiming {
  /** First retry interval of an activity within a round. */
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** Attempts per activity run (one round). */
  attemptsPerRound: number;
  /** Wait between two rounds (provisioning, cut-off, a sandbox retry). */
  roundDelayMs: number;
  /** Upper bound of an activity attempt. */
  activityTimeoutMs: number;
}

export const DEFAULT_RETRY_TIMING: RetryTiming = {
  initialIntervalMs: 1_000,
  maximumIntervalMs: 10_000,
  attemptsPerRound: 5,
  roundDelayMs: 30_000,
  activityTimeoutMs: 30_000,
};

/**
 * Failed rounds after which an approval's production provisioning gives up (`approval.state:
 * "failed"`; an administrator approves again once production is fixed). The API passes
 * PROVISIONING_MAX_ROUNDS in the workflow input; a workflow started without it uses this.
 */
export const DEFAULT_PROVISIONING_MAX_ROUNDS = 12;
