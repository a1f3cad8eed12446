import type { LogLevel, LogMetadata } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { oncePerRoundFailureLogger } from './failure-log.js';

function capture() {
  const lines: Array<{ level: LogLevel; message: string; meta?: LogMetadata }> = [];
  const log = (level: LogLevel) => (message: string, meta?: LogMetadata) =>
    void lines.push({ level, message, meta });
  return {
    lines,
    logger: {
      log: (level: LogLevel, message: string, meta?: LogMetadata) =>
        void lines.push({ level, message, meta }),
      trace: log('TRACE'),
      debug: log('DEBUG'),
      info: log('INFO'),
      warn: log('WARN'),
      error: log('ERROR'),
    },
  };
}

describe('activity failures in the worker log', () => {
  it('a failure repeated over 23 attempts is logged once per round of 5, with its attempt count', () => {
    const { lines, logger } = capture();
    const log = oncePerRoundFailureLogger(logger, 5);
    for (let attempt = 1; attempt <= 23; attempt += 1)
      log.warn('Activity failed', { attempt, activityType: 'projectService', error: new Error('down') });
    expect(lines.map((l) => l.meta?.attempt)).toEqual([1, 5, 10, 15, 20]);
    expect(lines[1]).toMatchObject({ level: 'WARN', message: 'Activity failed', meta: { attempt: 5 } });
  });

  it('a non-retryable failure and every other message pass unchanged', () => {
    const { lines, logger } = capture();
    const log = oncePerRoundFailureLogger(logger, 5);
    log.warn('Activity failed', {
      attempt: 3,
      error: Object.assign(new Error('refused'), { nonRetryable: true }),
    });
    log.debug('Activity started', { attempt: 3 });
    log.error('Workflow task failed', { attempt: 7 });
    expect(lines.map((l) => l.message)).toEqual([
      'Activity failed',
      'Activity started',
      'Workflow task failed',
    ]);
  });
});
