import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export interface DependencyStatus {
  ok: boolean;
  /** Why it is not ok, for operators; never a response body of the dependency. */
  reason?: string;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkPostgres(db: Db, timeoutMs = 2_000): Promise<DependencyStatus> {
  try {
    await withTimeout(sql`select 1`.execute(db), timeoutMs, 'PostgreSQL');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'unreachable' };
  }
}

export async function checkTemporal(client: Client, timeoutMs = 2_000): Promise<DependencyStatus> {
  try {
    // The abort cancels the call (and the SDK's retries of it) at the timeout; a deadline alone
    // leaves retries scheduled that fire after the caller has moved on.
    const abort = AbortSignal.timeout(timeoutMs);
    await withTimeout(
      client.connection.withAbortSignal(abort, () =>
        client.connection.withDeadline(Date.now() + timeoutMs, () =>
          client.workflowService.getSystemInfo({}),
        ),
      ),
      timeoutMs + 500,
      'Temporal',
    );
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message.split('\n')[0] : 'unreachable' };
  }
}
