/**
 * Error classes of every Aidbox call (docs/architecture.md, "Activities touching Aidbox"):
 * - retryable: network failures and timeouts, 5xx, 408, 409, 412, 423, 429 (Retry-After kept as a hint);
 * - permanent: every other 4xx; it becomes a clear error on the service, never a stuck workflow;
 * - DELETE answering 404 or 410 is not an error at all (the client treats it as done).
 * Messages carry method, path and status only: never the response body, which could echo a secret.
 */
export type AidboxErrorKind = 'retryable' | 'permanent';

export abstract class AidboxError extends Error {
  abstract readonly kind: AidboxErrorKind;

  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

export class AidboxRetryableError extends AidboxError {
  override name = 'AidboxRetryableError';
  readonly kind = 'retryable' as const;
}

export class AidboxPermanentError extends AidboxError {
  override name = 'AidboxPermanentError';
  readonly kind = 'permanent' as const;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 412, 423, 429]);

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || RETRYABLE_STATUSES.has(status);
}

/** Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function errorForStatus(
  method: string,
  path: string,
  status: number,
  retryAfter?: string | null,
): AidboxError {
  const message = `Aidbox ${method} ${path} answered ${status}`;
  return isRetryableStatus(status)
    ? new AidboxRetryableError(message, method, path, status, parseRetryAfter(retryAfter))
    : new AidboxPermanentError(message, method, path, status, undefined);
}

/** A failure before any HTTP status: connection refused or reset, DNS, timeout. Always retryable. */
export function errorForNetwork(method: string, path: string, error: unknown): AidboxRetryableError {
  const cause = (error as { cause?: { code?: string } })?.cause;
  const name = (error as Error)?.name;
  const reason =
    name === 'TimeoutError' || name === 'AbortError'
      ? 'timed out'
      : `network error${cause?.code ? ` (${cause.code})` : ''}`;
  return new AidboxRetryableError(
    `Aidbox ${method} ${path} failed: ${reason}`,
    method,
    path,
    undefined,
    undefined,
  );
}
