import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ServiceSummary } from '../../db/service-summary.js';
import type { ServiceState, ServiceStatus } from '../../workflows/backend-service/service-state.js';
import { CLIENT_ID_PATTERN } from '../../scopes/derive.js';
import { validationError } from '../problems.js';

/**
 * Reads of the read model (the workflow's projection). Lists use keyset pagination on the indexed
 * orders; cursors are opaque base64url JSON so the order keys can change without breaking clients
 * beyond a restart of their paging.
 */
export interface ServiceRow {
  state: ServiceState;
  projectionVersion: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export async function findService(db: Db, id: string): Promise<ServiceRow | undefined> {
  const row = await db
    .selectFrom('backend_services')
    .select(['state', 'projection_version'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { state: row.state, projectionVersion: Number(row.projection_version) } : undefined;
}

/**
 * Waits until the read model holds the service at `minVersion` or later (and `accept` says yes):
 * the workflow's projection activity writes it, normally before the update even returns.
 * Returns undefined at the deadline.
 */
export async function waitForService(
  db: Db,
  id: string,
  deadline: number,
  accept: (row: ServiceRow) => boolean = () => true,
): Promise<ServiceRow | undefined> {
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    const row = await findService(db, id);
    if (row && accept(row)) return row;
    if (Date.now() + pause > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

interface CreatedCursor {
  c: string;
  i: string;
}
interface QueueCursor {
  s: string;
  i: string;
}

function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** What our cursors hold: an ISO timestamp as toISOString() writes it (db/database.ts) and a service ID. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isInstant = (value: unknown): value is string =>
  typeof value === 'string' &&
  ISO_INSTANT.test(value) &&
  !Number.isNaN(Date.parse(value)) &&
  new Date(value).toISOString() === value; // 2026-02-30 parses in JS but PostgreSQL refuses it

/**
 * Decodes a cursor this API returned, or refuses it with a 400 naming `cursor`. Every part is checked
 * here because the values go into SQL casts: a well-formed but forged cursor (`{"c":"1","i":"x"}`)
 * would otherwise reach PostgreSQL and fail there.
 */
function decodeCursor<T>(cursor: string, [timeKey, idKey]: [keyof T & string, keyof T & string]): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const id = record[idKey];
    if (
      Object.keys(record).length === 2 &&
      isInstant(record[timeKey]) &&
      typeof id === 'string' &&
      CLIENT_ID_PATTERN.test(id)
    ) {
      return record as T;
    }
  }
  throw validationError(
    [{ field: 'cursor', message: 'not a cursor this API returned; start again from the first page' }],
    'The cursor is not valid.',
  );
}

export interface ListFilter {
  ownerId?: string;
  status?: ServiceStatus;
  organizationId?: string;
  /** Live JWKS services by their scheduled key-set check. */
  health?: 'ok' | 'failing';
  /** Administrators may ask for services their owners deleted; everyone else never sees them. */
  includeDeleted?: boolean;
  cursor?: string;
  limit: number;
}

/** The list's query (bench:read-path runs its compiled SQL bare, to compare). */
export function listQuery(db: Db, filter: ListFilter) {
  let query = db.selectFrom('backend_services').select([
    'created_at',
    'id',
    // As text: an item presented before is not parsed again (api/services/list-items.ts).
    sql<string>`summary::text`.as('summary'),
    sql<string>`projection_version::text || '/' || xmin::text`.as('version'),
  ]);
  if (filter.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
  if (!filter.includeDeleted) query = query.where('deleted_at', 'is', null);
  if (filter.health !== undefined)
    query = query.where(sql<boolean>`summary->'credentials'->'health'->>'state' = ${filter.health}`);
  if (filter.cursor) {
    const after = decodeCursor<CreatedCursor>(filter.cursor, ['c', 'i']);
    query = query.where(sql<boolean>`(created_at, id) < (${after.c}::timestamptz, ${after.i})`);
  }
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
}

/** A listed row: its summary as JSON text, and the row version it was read at (api/services/row-cache.ts). */
export interface ListedRow {
  id: string;
  version: string;
  summary: string;
}

/**
 * Newest first, on (created_at desc, id desc). Reads `summary`, never `state`: a list item needs a
 * fraction of the state (docs/decisions/read-path.md), and the whole state would be read from
 * PostgreSQL's out-of-line storage for every row of the page.
 */
export async function listServices(db: Db, filter: ListFilter): Promise<Page<ListedRow>> {
  const rows = await listQuery(db, filter).execute();
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ id, version, summary }) => ({ id, version, summary })),
    nextCursor: rows.length > filter.limit && last ? encodeCursor({ c: last.created_at, i: last.id }) : null,
  };
}

export interface QueuedService {
  summary: ServiceSummary;
  /** What waits for review (the service or its change) was submitted then (the projection sets it). */
  submittedAt: string;
}

/** Under review, oldest submission first, on (submitted_at, id); reads `summary` like the lists. */
export async function reviewQueue(
  db: Db,
  cursor: string | undefined,
  limit: number,
): Promise<Page<QueuedService>> {
  let query = db
    .selectFrom('backend_services')
    .select(['summary', 'submitted_at', 'id'])
    // A service under review, or a live service whose change is: both have submitted_at.
    .where('submitted_at', 'is not', null);
  if (cursor) {
    const after = decodeCursor<QueueCursor>(cursor, ['s', 'i']);
    query = query.where(sql<boolean>`(submitted_at, id) > (${after.s}::timestamptz, ${after.i})`);
  }
  const rows = await query
    .orderBy('submitted_at', 'asc')
    .orderBy('id', 'asc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({ summary: r.summary, submittedAt: r.submitted_at ?? r.summary.updatedAt })),
    nextCursor:
      rows.length > limit && last?.submitted_at ? encodeCursor({ s: last.submitted_at, i: last.id }) : null,
  };
}

export interface HistoryItem {
  at: string;
  actor: string;
  action: string;
  from: ServiceStatus | null;
  to: ServiceStatus;
  reason: string | null;
  revision: number;
}

export async function serviceHistory(db: Db, id: string): Promise<HistoryItem[]> {
  const rows = await db
    .selectFrom('backend_service_history')
    .select(['at', 'actor', 'action', 'from_status', 'to_status', 'reason', 'revision'])
    .where('service_id', '=', id)
    .orderBy('projection_version', 'asc')
    .execute();
  return rows.map((r) => ({
    at: r.at,
    actor: r.actor,
    action: r.action,
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
    revision: r.revision,
  }));
}
