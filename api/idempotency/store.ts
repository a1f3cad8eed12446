import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';

/**
 * Idempotency records in PostgreSQL (docs/architecture.md, Idempotency): keyed by (principal,
 * method + concrete path, key), 24 h lifetime. Same key and body: the first answer. Same key,
 * other body: refused. Still in flight: refused, unless the record is older than the request
 * deadline (its request died), when the retry takes it over. 5xx answers are never stored: the
 * record is released instead (keeping a create's reserved service ID).
 */
export interface IdempotencyScope {
  principal: string;
  /** Method and concrete path, e.g. `POST /v1/backend-services/bs-abc/submit`. */
  route: string;
  key: string;
}

export interface StoredAnswer {
  status: number;
  body: unknown;
  /** The secret version the answer revealed (create, rotate), re-shown by a replay only if never shown. */
  secret: { serviceId: string; secretVersion: number } | null;
}

export type BeginOutcome =
  | { kind: 'proceed'; reservedServiceId: string | null }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'in-flight' }
  | { kind: 'key-reused' };

export interface IdempotencyStore {
  begin(
    scope: IdempotencyScope,
    requestHash: string,
    options: { takeOverAfterMs: number; reserveServiceId?: () => string },
  ): Promise<BeginOutcome>;
  complete(scope: IdempotencyScope, answer: StoredAnswer): Promise<void>;
  /** After a 5xx: nothing stored, the lock is dropped so a retry proceeds at once. */
  release(scope: IdempotencyScope): Promise<void>;
  purgeExpired(): Promise<number>;
}

export const IDEMPOTENCY_LIFETIME_HOURS = 24;

/** SHA-256 over the parts, separated so ("a", "bc") and ("ab", "c") differ. */
export function hashParts(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part};`);
  return hash.digest('hex');
}

/** The Temporal update ID of an idempotent request: the same for every retry, different for every other scope. */
export const updateIdOf = (scope: IdempotencyScope) =>
  `idem-${hashParts(scope.principal, scope.route, scope.key)}`;

export function createIdempotencyStore(db: Db): IdempotencyStore {
  const where = (scope: IdempotencyScope) =>
    db
      .updateTable('idempotency_records')
      .where('principal', '=', scope.principal)
      .where('route', '=', scope.route)
      .where('key', '=', scope.key);

  return {
    async begin(scope, requestHash, { takeOverAfterMs, reserveServiceId }) {
      const fresh = () => ({
        request_hash: requestHash,
        state: 'in_flight' as const,
        locked_at: sql<string>`now()`,
        service_id: reserveServiceId?.() ?? null,
        response_status: null,
        response_body: null,
        secret_version: null,
        expires_at: sql<string>`now() + make_interval(hours => ${IDEMPOTENCY_LIFETIME_HOURS})`,
      });
      const inserted = await db
        .insertInto('idempotency_records')
        .values({ ...scope, ...fresh() })
        .onConflict((oc) => oc.columns(['principal', 'route', 'key']).doNothing())
        .returning('service_id')
        .executeTakeFirst();
      if (inserted) return { kind: 'proceed', reservedServiceId: inserted.service_id };

      return db.transaction().execute(async (tx): Promise<BeginOutcome> => {
        const row = await tx
          .selectFrom('idempotency_records')
          .select([
            'request_hash',
            'state',
            'service_id',
            'response_status',
            'response_body',
            'secret_version',
            sql<boolean>`expires_at < now()`.as('expired'),
            sql<boolean>`locked_at is null or locked_at < now() - make_interval(secs => ${takeOverAfterMs / 1000})`.as(
              'abandoned',
            ),
          ])
          .where('principal', '=', scope.principal)
          .where('route', '=', scope.route)
          .where('key', '=', scope.key)
          .forUpdate()
          .executeTakeFirst();
        const update = () =>
          tx
            .updateTable('idempotency_records')
            .where('principal', '=', scope.principal)
            .where('route', '=', scope.route)
            .where('key', '=', scope.key);
        if (!row || row.expired) {
          // Gone or past its lifetime: the key starts over as a new request.
          const values = fresh();
          if (row) await update().set(values).execute();
          else
            await tx
              .insertInto('idempotency_records')
              .values({ ...scope, ...values })
              .execute();
          return { kind: 'proceed', reservedServiceId: values.service_id };
        }
        if (row.request_hash !== requestHash) return { kind: 'key-reused' };
        if (row.state === 'completed') {
          return {
            kind: 'replay',
            answer: {
              status: row.response_status!,
              body: row.response_body,
              secret:
                row.secret_version !== null && row.service_id !== null
                  ? { serviceId: row.service_id, secretVersion: row.secret_version }
                  : null,
            },
          };
        }
        if (!row.abandoned) return { kind: 'in-flight' };
        await update()
          .set({ locked_at: sql<string>`now()` })
          .execute();
        return { kind: 'proceed', reservedServiceId: row.service_id };
      });
    },

    async complete(scope, answer) {
      if (answer.status >= 500) return this.release(scope);
      await where(scope)
        .set({
          state: 'completed',
          locked_at: null,
          response_status: answer.status,
          response_body: JSON.stringify(answer.body),
          ...(answer.secret
            ? { service_id: answer.secret.serviceId, secret_version: answer.secret.secretVersion }
            : {}),
        })
        .execute();
    },

    async release(scope) {
      await where(scope).set({ locked_at: null }).where('state', '=', 'in_flight').execute();
    },

    async purgeExpired() {
      const result = await db
        .deleteFrom('idempotency_records')
        .where('expires_at', '<', sql<string>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
