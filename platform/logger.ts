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

export function createLogger(name: string, level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination ?? process.stdout,
  );
}
