import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { canonicalJson } from '../../scopes/canonical-json.js';
import { SecretAlreadyShown, SecretCiphertextDeleted } from '../../credentials/secret-store.js';
import type { AppContext, Services } from '../context.js';
import { toProblem } from '../errors.js';
import { ApiProblem, isProblemName, unavailable, type ProblemBody } from '../problems.js';
import { json } from '../routes/openapi-helpers.js';
import { hashParts, updateIdOf, type IdempotencyScope, type StoredAnswer } from './store.js';

/**
 * Runs a mutating request under its Idempotency-Key (docs/architecture.md, Idempotency). The handler
 * returns its answer without any secret; this adds the secret when it may be shown (the first
 * answer, or a replay while the version was never shown) and marks every such answer no-store.
 */
export interface Outcome<Body extends object, Status extends ContentfulStatusCode> {
  status: Status;
  body: Body;
  /** A secret version this answer reveals (create, rotate-secret). */
  secret?: { serviceId: string; secretVersion: number } | null;
  headers?: Record<string, string>;
}

export interface RunContext {
  /** The Temporal update ID: a hash of (principal, method + path, key), or undefined without a key. */
  updateId: string | undefined;
  /** The service ID a create reserved on an earlier attempt with the same key. */
  reservedServiceId: string | null;
  /** When the Temporal and read-model waits of this request give up. */
  deadline: number;
}

/** The answer, typed by the handler's Outcome so that zod-openapi checks it against the route. */
export async function runIdempotent<Body extends object, Status extends ContentfulStatusCode>(
  c: AppContext,
  services: Services,
  request: { body: unknown; reserveServiceId?: () => string },
  handler: (ctx: RunContext) => Promise<Outcome<Body, Status>>,
) {
  const timeoutMs = services.config.TEMPORAL_CALL_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const key = c.req.header('Idempotency-Key');
  if (key === undefined) {
    const outcome = await handler({ updateId: undefined, reservedServiceId: null, deadline });
    return respond(c, services, outcome, false);
  }

  const scope: IdempotencyScope = {
    principal: c.var.principal.sub,
    route: `${c.req.method} ${c.req.path}`,
    key,
  };
  const requestHash = hashParts(canonicalJson(request.body ?? null));
  const begun = await services.idempotency.begin(scope, requestHash, {
    // A record whose request outlived every deadline it had is abandoned: the retry takes it over.
    takeOverAfterMs: 2 * timeoutMs + 5_000,
    ...(request.reserveServiceId ? { reserveServiceId: request.reserveServiceId } : {}),
  });
  switch (begun.kind) {
    case 'key-reused':
      throw new ApiProblem(
        'idempotency-key-reused',
        'This Idempotency-Key was already used with a different request.',
      );
    case 'in-flight':
      throw new ApiProblem(
        'idempotency-in-flight',
        'A request with this Idempotency-Key is still being processed; retry shortly.',
        {},
        {
          'Retry-After': '1',
        },
      );
    case 'replay':
      // A stored refusal is thrown again, as the first one was; a stored success is answered again.
      if (begun.answer.status >= 400) throw storedRefusal(begun.answer);
      return respond(c, services, storedOutcome<Body, Status>(begun.answer), true);
    case 'proceed':
      break;
  }

  let outcome: Outcome<Body, Status>;
  try {
    outcome = await handler({
      updateId: updateIdOf(scope),
      reservedServiceId: begun.reservedServiceId,
      deadline,
    });
  } catch (error) {
    const problem = toProblem(error);
    if (problem && problem.status < 500 && problem.status !== 429) {
      // A refusal is the first answer too: the retry gets it again, nothing is applied. A 429 is not
      // final (it names when to come back), so, like a 5xx, it releases the key for that retry.
      await services.idempotency.complete(scope, {
        status: problem.status,
        body: problem.body(),
        secret: null,
      });
    } else {
      await services.idempotency.release(scope).catch(() => undefined);
    }
    throw error;
  }
  // The answer's headers (Location, ETag) are part of it; the secret never is.
  const stored: StoredAnswer = {
    status: outcome.status,
    body: { body: outcome.body, headers: outcome.headers ?? {} },
    secret: outcome.secret ?? null,
  };
  // Stored before the secret is revealed: if revealing fails (503), the retry replays and reveals it then.
  await services.idempotency.complete(scope, stored);
  return respond(c, services, outcome, false);
}

// The record's JSON comes back untyped from PostgreSQL; it was written above, by this same route,
// from its own Outcome (or, for a refusal, from problem.body()): hence the two casts below.
function storedOutcome<Body extends object, Status extends ContentfulStatusCode>(
  answer: StoredAnswer,
): Outcome<Body, Status> {
  const { body, headers } = answer.body as { body: Body; headers: Record<string, string> };
  return { status: answer.status as Status, body, headers, secret: answer.secret };
}

function storedRefusal(answer: StoredAnswer): ApiProblem {
  const { type, title: _title, status: _status, detail, ...extensions } = answer.body as ProblemBody;
  const name = type.replace(/^\/problems\//, '');
  // Every stored refusal names one of our problem types; anything else would be a corrupt record.
  if (!isProblemName(name)) return new ApiProblem('internal-error', 'An unexpected error occurred.');
  return new ApiProblem(name, detail, extensions, { 'Idempotent-Replayed': 'true' });
}

async function respond<Body extends object, Status extends ContentfulStatusCode>(
  c: AppContext,
  services: Services,
  outcome: Outcome<Body, Status>,
  replayed: boolean,
) {
  const revealed = outcome.secret ? await revealOnce(services, outcome.secret) : {};
  return json(c, { ...outcome.body, ...revealed }, outcome.status, {
    ...outcome.headers,
    ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
  });
}

async function forgetIfEverywhere(
  services: Services,
  serviceId: string,
  secretVersion: number,
): Promise<void> {
  try {
    const row = await services.db
      .selectFrom('backend_services')
      .select('state')
      .where('id', '=', serviceId)
      .executeTakeFirst();
    const state = row?.state;
    if (
      state?.productionProvisioned &&
      state.sandbox.revision !== null &&
      state.credentials.secret?.version === secretVersion
    ) {
      await services.secrets!.deleteIfDone(serviceId, secretVersion);
    }
  } catch (error) {
    services.log.warn(
      { err: { name: (error as Error).name }, serviceId },
      'could not settle a shown client secret',
    );
  }
}

async function revealOnce(
  services: Services,
  { serviceId, secretVersion }: { serviceId: string; secretVersion: number },
): Promise<{ clientSecret: string | null; clientSecretShown?: boolean }> {
  if (!services.secrets) throw unavailable('The secret store is not configured.', 30);
  try {
    const clientSecret = await services.secrets.reveal(serviceId, secretVersion);
    await forgetIfEverywhere(services, serviceId, secretVersion);
    return { clientSecret };
  } catch (error) {
    if (error instanceof SecretAlreadyShown) return { clientSecret: null, clientSecretShown: true };
    if (error instanceof SecretCiphertextDeleted) {
      return {
        clientSecret: null,
        clientSecretShown: await services.secrets.isShown(serviceId, secretVersion),
      };
    }
    if (toProblem(error)) throw error;
    // Never let a crypto or store error message (which could describe the secret's record) out.
    services.log.error(
      { err: { name: (error as Error).name }, serviceId, secretVersion },
      'could not reveal a client secret',
    );
    throw unavailable('The client secret could not be read; retry with the same Idempotency-Key.');
  }
}
