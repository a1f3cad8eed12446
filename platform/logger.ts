import { context, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear, so a secret handed to a log call by mistake never
 * reaches the log. The design rule (docs/architecture.md, Secrets) is stronger: secrets are never
 * logged at all; this is the net under it.
 */
export const REDACTED_PATHS = [
  'clientSecret',
  'client_secret',
  'secret',
  'password',
  'authorization',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.password',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'headers.cookie',
];

/**
 * The trace of the request being served, on each of its log lines, so a log line leads to its
 * trace and back. Without a tracing SDK the API answers no span and lines stay as they were.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return traceFlags & 1 ? { trace_id: traceId, span_id: spanId } : {};
}

export function createLogger(name: string, level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, mixin: traceFields },
    destination ?? process.stdout,
  );
}
