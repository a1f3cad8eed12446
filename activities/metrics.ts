import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { Environment, HistoryEntry, ServiceState } from '../workflows/backend-service/service-state.js';

/**
 * The registry's business metrics seen by the worker, recorded through the Temporal SDK's metric
 * meter so they share the SDK's Prometheus endpoint (WORKER_METRICS_PORT). Activities are where
 * the workflow's events become visible without touching workflow code: provisioning activities see
 * every Aidbox failure and every round, the JWKS activity every check, the projection activity
 * every transition. Labels are small fixed sets; never a service ID, owner, e-mail or Organization.
 * The SDK adds its own tags (namespace, task queue, activity type), equally bounded.
 *
 * Outside an activity (unit tests calling the functions directly) nothing is recorded.
 */
function meter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

export const BUSINESS_METRICS = {
  provisioningFailures: 'backend_service_provisioning_failures_total',
  provisioningRounds: 'backend_service_provisioning_rounds_total',
  jwksChecks: 'backend_service_jwks_checks_total',
  reviewWait: 'backend_service_review_wait_seconds',
} as const;

/** Review waits run from minutes to days: buckets in seconds, up to two weeks. */
export const REVIEW_WAIT_BUCKETS = [
  60,
  300,
  900,
  3_600,
  4 * 3_600,
  12 * 3_600,
  86_400,
  3 * 86_400,
  7 * 86_400,
  14 * 86_400,
];

/** Failure kinds are the activity failure types the workflow records; anything else is `Error`. */
const FAILURE_KINDS = new Set([
  'AidboxUnavailable',
  'AidboxRefused',
  'SecretUnavailable',
  'SecretUnreadable',
]);

/** One failed attempt of an Aidbox call made by a provisioning activity. */
export function recordProvisioningFailure(environment: Environment, kind: string): void {
  meter()
    ?.createCounter(
      BUSINESS_METRICS.provisioningFailures,
      '1',
      'Failed Aidbox provisioning attempts, by environment and failure kind.',
    )
    .add(1, { environment, kind: FAILURE_KINDS.has(kind) ? kind : 'Error' });
}

/**
 * A provisioning round begins: the first attempt of a provisioning activity (the workflow runs
 * each round as one activity with a bounded number of attempts, so attempt 1 starts a round).
 */
export function recordProvisioningRound(environment: Environment): void {
  let attempt: number;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    return;
  }
  if (attempt !== 1) return;
  meter()
    ?.createCounter(
      BUSINESS_METRICS.provisioningRounds,
      '1',
      'Provisioning rounds started (one activity run of bounded attempts), by environment.',
    )
    .add(1, { environment });
}

export function recordJwksCheck(valid: boolean): void {
  meter()
    ?.createCounter(
      BUSINESS_METRICS.jwksChecks,
      '1',
      'JWKS checks (fetch and validation of a registered JWK Set), by result.',
    )
    .add(1, { result: valid ? 'valid' : 'invalid' });
}

/**
 * Submit → decision, for a decision the read model has just recorded for the first time (a
 * retried projection finds its history row written and records nothing).
 */
export function recordReviewDecision(state: ServiceState, history: HistoryEntry): void {
  if (history.action !== 'approve' && history.action !== 'reject') return;
  const submittedAt = Date.parse(state.submission?.submittedAt ?? '');
  const decidedAt = Date.parse(history.at);
  if (Number.isNaN(submittedAt) || Number.isNaN(decidedAt)) return;
  meter()
    ?.createHistogram(
      BUSINESS_METRICS.reviewWait,
      'float',
      's',
      'Time from submission to an approve or reject decision.',
    )
    .record(Math.max(0, (decidedAt - submittedAt) / 1000), { decision: history.action });
}
