import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/**
 * The SDK logs every failed activity attempt with its stack. A dependency that is down for an hour
 * (an Aidbox, PostgreSQL) would bury the log under identical traces, several a second. This logger
 * keeps the first failure of an activity and then one per round of `attemptsPerRound` attempts,
 * each with its attempt count; a failure the activity marks non-retryable (the last one) always
 * passes. Everything else goes through unchanged.
 */
export function oncePerRoundFailureLogger(inner: Logger, attemptsPerRound: number): Logger {
  const keep = (message: string, meta?: LogMetadata): LogMetadata | undefined | false => {
    if (message !== 'Activity failed' || !meta) return meta;
    const attempt = typeof meta.attempt === 'number' ? meta.attempt : 1;
    const error = meta.error as { nonRetryable?: unknown } | undefined;
    const last = error?.nonRetryable === true;
    if (!last && attempt !== 1 && attempt % attemptsPerRound !== 0) return false;
    return { ...meta, attempt, loggedEvery: `first failure, then once per ${attemptsPerRound} attempts` };
  };
  const forward =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void => {
      const kept = keep(message, meta);
      if (kept !== false) inner.log(level, message, kept);
    };
  return {
    log: (level, message, meta) => forward(level)(message, meta),
    trace: forward('TRACE'),
    debug: forward('DEBUG'),
    info: forward('INFO'),
    warn: forward('WARN'),
    error: forward('ERROR'),
  };
}
