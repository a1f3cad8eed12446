import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { HTTPException } from 'hono/http-exception';
import { AidboxError } from '../aidbox/errors.js';
import { FailureType } from '../workflows/backend-service/failure-types.js';
import { ApiProblem, notFound, unavailable, validationError } from './problems.js';
import { UpdateRefused } from './services/commands.js';

/**
 * The one error mapper: whatever a handler or middleware throws becomes an ApiProblem. Anything
 * not recognised here is a bug and becomes the last-resort 500 (app.ts), which the tests show is
 * never reached.
 */
export function toProblem(error: unknown): ApiProblem | undefined {
  if (error instanceof ApiProblem) return error;
  if (error instanceof UpdateRefused) return fromWorkflow(error);
  if (error instanceof HTTPException) {
    // Hono's validators throw 400 for a body that is not JSON; nothing else here throws one.
    return validationError([{ field: '', message: error.message }], 'The request body is not valid JSON.');
  }
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return unavailable(
      'The service workflow did not answer in time (no worker may be running); retry later.',
    );
  }
  if (error instanceof WorkflowNotFoundError) return notFound();
  // Listing or checking Organizations in production: never echo Aidbox's answer.
  if (error instanceof AidboxError)
    return unavailable('The production Aidbox did not answer as expected; retry later.', 10);
  if (isTemporalUnavailable(error)) return unavailable('Temporal is unavailable; retry later.');
  if (isDatabaseUnavailable(error)) return unavailable('The database is unavailable; retry later.');
  return undefined;
}

function fromWorkflow(refusal: UpdateRefused): ApiProblem {
  const currentStatus =
    typeof refusal.details.currentStatus === 'string' ? refusal.details.currentStatus : undefined;
  const withStatus = currentStatus ? { currentStatus } : {};
  switch (refusal.type) {
    case FailureType.InvalidTransition:
      return new ApiProblem('invalid-transition', refusal.message, withStatus);
    case FailureType.RevisionMismatch:
      return new ApiProblem('precondition-failed', refusal.message, withStatus);
    case FailureType.StaleReview:
      return new ApiProblem('stale-review', refusal.message, withStatus);
    case FailureType.SelfApproval:
      return new ApiProblem('self-approval', refusal.message, withStatus);
    case FailureType.Forbidden:
      return new ApiProblem('forbidden', refusal.message, withStatus);
    case FailureType.CommandNotAuthorized:
      return new ApiProblem('command-not-authorized', refusal.message, withStatus);
    case FailureType.InvalidInput: {
      const field = typeof refusal.details.field === 'string' ? refusal.details.field : '';
      return validationError([{ field, message: refusal.message }], refusal.message);
    }
    case FailureType.CredentialsInvalid:
      return new ApiProblem('credentials-invalid', refusal.message, {
        ...withStatus,
        report: refusal.details.report ?? null,
      });
    case FailureType.CancelledByDeactivation:
      return new ApiProblem('invalid-transition', refusal.message, withStatus);
    case FailureType.ProjectionFailed:
      // Applied, but the read model holds only a sanitised copy: nothing the caller can fix by retrying.
      return unavailable(
        'The change was applied, but the read model could not record it; the service shows projectionError until a later change is recorded.',
      );
    case FailureType.ProvisioningFailed: {
      // Status and kind only (never an Aidbox response body).
      const { environment, operation, status, kind } = refusal.details as Record<string, unknown>;
      return new ApiProblem(
        'provisioning-failed',
        `Aidbox (${String(environment ?? 'unknown')}) did not accept the change; nothing was applied. Retry later.`,
        {
          error: {
            environment: environment ?? null,
            operation: operation ?? null,
            status: status ?? null,
            kind: kind ?? null,
          },
        },
      );
    }
    default:
      return unavailable('The service workflow could not complete the request; retry later.');
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof ServiceError) return true;
  // gRPC errors carry a numeric code (14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 1 CANCELLED, 8 RESOURCE_EXHAUSTED).
  const code = (error as { code?: unknown } | null)?.code;
  const isGrpc = error instanceof Error && 'metadata' in error && typeof code === 'number';
  return isGrpc && [1, 4, 8, 14].includes(code);
}

/** pg connection, admission and timeout failures: the database, not the request, is at fault. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention, statement timeout).
    if (/^(08|53|57)[0-9A-Z]{3}$/.test(code)) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    error.message,
  );
}
