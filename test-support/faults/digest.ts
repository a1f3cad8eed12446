import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Standin } from '../../aidbox-standin/server.js';
import type { Db } from '../../db/database.js';
import { stateQuery } from '../../workflows/backend-service/messages.js';
import type { Environment } from '../../workflows/backend-service/service-state.js';
import { handleOf } from './lifecycles.js';

/**
 * Digests of everything a request could change: every table of the database (except the
 * idempotency records, which a refused request may legitimately write), both stand-ins' stores
 * (current resources, their versions and the transaction counter), and the state and history
 * length of some service workflows. Equal digests = nothing changed.
 */
export interface Digest {
  database: Record<string, string>;
  standins: Record<Environment, string>;
  workflows: Record<string, string>;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

export async function databaseDigest(db: Db): Promise<Record<string, string>> {
  const { rows: tables } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'idempotency_records'
    order by table_name`.execute(db);
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    // Row text in a fixed order: any inserted, deleted or changed row changes the hash.
    const { rows } = await sql<{ digest: string | null; n: string }>`
      select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest, count(*) as n
      from ${sql.table(name)} t`.execute(db);
    digest[name] = `${rows[0]!.n}:${rows[0]!.digest}`;
  }
  return digest;
}

export function standinDigest(standin: Standin): string {
  const snapshot = standin.store.snapshot();
  return sha(JSON.stringify(snapshot, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v)));
}

export async function workflowDigest(client: Client, serviceId: string): Promise<string> {
  const handle = handleOf(client, serviceId);
  const [state, description] = await Promise.all([handle.query(stateQuery), handle.describe()]);
  return sha(JSON.stringify({ state, historyLength: description.historyLength }));
}

export async function digest(
  db: Db,
  standins: Record<Environment, Standin>,
  client: Client,
  serviceIds: string[],
): Promise<Digest> {
  const workflows: Record<string, string> = {};
  for (const id of serviceIds) workflows[id] = await workflowDigest(client, id);
  return {
    database: await databaseDigest(db),
    standins: { sandbox: standinDigest(standins.sandbox), production: standinDigest(standins.production) },
    workflows,
  };
}

/** The parts that differ between two digests (`database.backend_services`, `workflows.bs-…`). */
export function changedParts(before: Digest, after: Digest): string[] {
  const changed: string[] = [];
  for (const part of ['database', 'standins', 'workflows'] as const) {
    const a = before[part] as Record<string, string>;
    const b = after[part] as Record<string, string>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (a[key] !== b[key]) changed.push(`${part}.${key}`);
  }
  return changed;
}
