import { sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { asNonRetryable, DATABASE_REFUSED } from '../activities/database-failures.js';
import { createDb } from './database.js';
import { freePort } from '../platform/ports.js';
import { permanentDatabaseError, sqlstateOf } from './errors.js';

/** Real PostgreSQL errors, classified: what no retry can fix fails at once; the rest is retried. */
describe('PostgreSQL error classification', () => {
  const db = createDb(inject('databaseUrl'), { poolSize: 1 });
  afterAll(() => db.destroy());
  const errorOf = async (statement: ReturnType<typeof sql>) => {
    try {
      await statement.execute(db);
    } catch (error) {
      return error;
    }
    throw new Error('the statement was expected to fail');
  };

  it.each([
    ['a NUL in jsonb', sql`select ${'{"kid":"a\\u0000b"}'}::jsonb`, '22P05'],
    ['a timestamp that is none', sql`select ${'not-a-date'}::timestamptz`, '22007'],
    ['division by zero', sql`select 1 / 0`, '22012'],
    ['a missing table', sql`select * from no_such_table`, '42P01'],
    [
      'a duplicate key',
      sql`create temp table t (id int primary key); insert into t values (1), (1)`,
      '23505',
    ],
  ])('%s is permanent (not retried) and becomes a non-retryable failure', async (_, statement, sqlstate) => {
    const error = await errorOf(statement);
    expect(sqlstateOf(error)).toBe(sqlstate);
    expect(permanentDatabaseError(error)).toMatchObject({ sqlstate });
    const failure = asNonRetryable(error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: DATABASE_REFUSED, nonRetryable: true });
  });

  it('negative controls: a lost connection, a serialization failure and a statement timeout stay retryable', async () => {
    const unreachable = createDb(`postgres://postgres@127.0.0.1:${await freePort()}/none`, {
      connectionTimeoutMs: 500,
    });
    const lost = await sql`select 1`.execute(unreachable).catch((e: unknown) => e);
    await unreachable.destroy();
    const timeout = await errorOf(sql`set local statement_timeout = 10; select pg_sleep(1)`);
    const serialization = Object.assign(new Error('could not serialize access'), {
      code: '40001',
      severity: 'ERROR',
    });
    for (const error of [lost, timeout, serialization]) {
      expect(permanentDatabaseError(error)).toBeUndefined();
      expect(asNonRetryable(error)).toBe(error);
    }
    expect(sqlstateOf(timeout)).toBe('57014');
  });
});
