import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/database.js';
import { buildScopes } from '../scopes/build.js';
import { workflowIdOf } from '../workflows/backend-service/messages.js';
import type { ProjectedState, Registration, ScopeRule } from '../workflows/backend-service/service-state.js';
import type { BackendServiceInput } from '../workflows/backend-service/inputs.js';
import type { RetryTiming } from '../workflows/backend-service/retry-timing.js';
import { backendService } from '../workflows/backend-service/workflow.js';
import type { TestSystem } from './system.js';

/** Retry timing that keeps tests fast: rounds of 2 attempts, 300 ms apart. */
export const FAST_RETRY: RetryTiming = {
  initialIntervalMs: 50,
  maximumIntervalMs: 100,
  attemptsPerRound: 2,
  roundDelayMs: 300,
  activityTimeoutMs: 5_000,
};

export const newServiceId = () => `bs-${randomBytes(8).toString('hex')}`;

export function registration(
  authMethod: Registration['authMethod'],
  overrides: { rules?: ScopeRule[]; organizationId?: string | null; name?: string } = {},
): Registration {
  const rules = overrides.rules ?? [{ resource: 'Patient', operations: ['read', 'search'] }];
  const built = buildScopes({ version: 'v2', rules });
  if (!built.ok) throw new Error(`test scopes refused: ${JSON.stringify(built.errors)}`);
  return {
    name: overrides.name ?? 'Acme bulk export',
    description: 'Nightly export for the care-gap report',
    contactEmail: 'ops@acme.example',
    authMethod,
    scopes: { version: 'v2', rules, strings: built.value.strings },
    organizationId: overrides.organizationId === undefined ? 'org-payer-a' : overrides.organizationId,
  };
}

export async function startService(
  system: TestSystem,
  reg: Registration,
  options: {
    ownerId?: string;
    serviceId?: string;
    continueAsNewAfterEvents?: number;
    taskQueue?: string;
    /** Overrides of the workflow input (negative controls, hostile values). */
    input?: Partial<BackendServiceInput>;
  } = {},
): Promise<{ serviceId: string; handle: WorkflowHandle<typeof backendService> }> {
  const serviceId = options.serviceId ?? newServiceId();
  const input: BackendServiceInput = {
    serviceId,
    ownerId: options.ownerId ?? 'alice',
    registration: reg,
    createdAt: new Date().toISOString(),
    retry: FAST_RETRY,
    ...(options.continueAsNewAfterEvents
      ? { continueAsNewAfterEvents: options.continueAsNewAfterEvents }
      : {}),
    ...options.input,
  };
  const handle = await system.client.workflow.start(backendService, {
    workflowId: workflowIdOf(serviceId),
    taskQueue: options.taskQueue ?? system.worker.taskQueue,
    args: [input],
  });
  return { serviceId, handle };
}

/** Polls the read model until `predicate` holds for the service's projected state. */
export async function waitForProjection(
  db: Db,
  serviceId: string,
  predicate: (state: ProjectedState) => boolean,
  timeoutMs = 30_000,
): Promise<ProjectedState> {
  const deadline = Date.now() + timeoutMs;
  let last: ProjectedState | undefined;
  for (;;) {
    const row = await db
      .selectFrom('backend_services')
      .select('state')
      .where('id', '=', serviceId)
      .executeTakeFirst();
    last = row?.state;
    if (last && predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `projection of ${serviceId} did not reach the expected state; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function historyOf(db: Db, serviceId: string) {
  return db
    .selectFrom('backend_service_history')
    .select(['action', 'from_status', 'to_status', 'actor', 'reason', 'revision'])
    .where('service_id', '=', serviceId)
    .orderBy('projection_version')
    .execute();
}

/** The ApplicationFailure an update failed with (validator refusal or handler failure). */
export async function updateFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)
      return error.cause;
    throw error;
  }
  throw new Error('the update was expected to fail');
}

/** A client_credentials token from an Aidbox stand-in, with a client secret (client_secret_basic). */
export async function tokenWithSecret(baseUrl: string, clientId: string, secret: string, scope?: string) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  return fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body,
  });
}

/** A client_credentials token with a private_key_jwt assertion (SMART Backend Services). */
export async function tokenWithAssertion(baseUrl: string, assertion: string, scope?: string) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    ...(scope ? { scope } : {}),
  });
  return fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
}

export async function fhirGet(baseUrl: string, path: string, accessToken: string) {
  return fetch(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${accessToken}` } });
}

/**
 * The token endpoint's answer to a client it no longer accepts (a replaced secret, an inactive
 * Client): 400 `invalid_client`, as Aidbox answers (docs/aidbox-contract.md §4). Returns the
 * description so a test can say which refusal it was.
 */
export async function clientRefusal(response: Response): Promise<{ status: number; error?: string }> {
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  return { status: response.status, error: body.error };
}

/**
 * The writes of a service's Client (PUT or POST) an Aidbox stand-in logged, as `METHOD path status`.
 * The stand-in stores resources by id, so counting stored Clients cannot see a second creation;
 * its request log can (a 201 is a creation, a 200 an update).
 */
export function clientWrites(
  standinLogLines: readonly string[],
  env: 'sandbox' | 'production',
  serviceId: string,
): string[] {
  return standinLogLines
    .map((line) => JSON.parse(line) as { method: string; path: string; status: number; env?: string })
    .filter(
      (l) =>
        l.env === env &&
        (l.method === 'PUT' || l.method === 'POST') &&
        /\/Client(\/|$)/.test(l.path) &&
        (l.method === 'POST' || l.path.endsWith(`/${serviceId}`)),
    )
    .map((l) => `${l.method} ${l.path} ${l.status}`);
}
