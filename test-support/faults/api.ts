import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { createApp } from '../../api/app.js';
import type { AppEnv } from '../../api/context.js';
import { createIdentities, testConfig, type Identities } from '../api-harness.js';
import { createKeyring } from '../../credentials/keyring.js';
import { createSecretStore } from '../../credentials/secret-store.js';
import type { Db } from '../../db/database.js';
import { createLogger } from '../../platform/logger.js';
import { FAST_RETRY } from '../services.js';
import type { Lifecycle } from './lifecycles.js';
import type { TestSystem } from '../system.js';
import { registeringSecretStore } from '../secret-registry.js';

/**
 * The real HTTP API (api/app.ts) on a fault system, in-process, with the test issuer's identities:
 * alice owns services, ada reviews them, mallory is another developer. `db` is the API's own
 * connection (a proxied one when the test cuts PostgreSQL off from the API alone).
 */
export type Who = 'alice' | 'ada' | 'mallory';

export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
  text: string;
}

export interface FaultApi {
  app: Hono<AppEnv>;
  ids: Identities;
  headers: Record<Who, Record<string, string>>;
  /** Every answer the API gave through `call`, for the no-500 check. */
  answers: Array<{ method: string; path: string; status: number; contentType: string | null; body: unknown }>;
  call(
    method: string,
    path: string,
    who: Who | null,
    body?: unknown,
    extra?: Record<string, string>,
  ): Promise<Answer>;
}

export async function startFaultApi(
  system: TestSystem,
  options: { db?: Db; callTimeoutMs?: number } = {},
): Promise<FaultApi> {
  const db = options.db ?? system.db;
  const ids = await createIdentities();
  const config = testConfig({
    TEMPORAL_ADDRESS: system.temporalAddress,
    TEMPORAL_TASK_QUEUE: system.taskQueue,
    TEMPORAL_CALL_TIMEOUT_MS: String(options.callTimeoutMs ?? 5_000),
    SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
    PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
  });
  const app = createApp({
    config,
    db,
    temporal: system.client,
    log: createLogger('fault-api', 'silent'),
    verifier: ids.verifier,
    // The worker's key, on the API's connection: the API reads the secret it shows once.
    secrets: registeringSecretStore(
      createSecretStore(db, createKeyring(new Map([['test', system.secretKey]]), 'test')),
      'fault api',
    ),
    workflowRetry: FAST_RETRY,
  });
  const headers = {
    alice: await ids.bearer('alice', ['developer']),
    ada: await ids.bearer('ada', ['admin']),
    mallory: await ids.bearer('mallory', ['developer']),
  };
  const answers: FaultApi['answers'] = [];
  return {
    app,
    ids,
    headers,
    answers,
    async call(method, path, who, body, extra = {}) {
      const init: RequestInit = {
        method,
        headers: {
          ...(who ? headers[who] : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...extra,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      };
      const response = await app.request(path, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: kept as text, and the problem check names it.
      }
      answers.push({
        method,
        path,
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: parsed,
      });
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
}

/** A problem+json body as RFC 9457 and docs/api.md describe it (type, title, status, detail). */
export function isProblem(contentType: string | null, body: unknown, status: number): boolean {
  if (contentType !== 'application/problem+json') return false;
  const b = body as Record<string, unknown> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.type === 'string' &&
    typeof b.title === 'string' &&
    typeof b.detail === 'string' &&
    b.status === status
  );
}

/**
 * The server faults among the API's answers: any 5xx except a 503 that is a problem+json with
 * the API's "retry later". Empty = the API never failed itself.
 */
export function serverFaults(answers: FaultApi['answers']): string[] {
  return answers
    .filter((a) => a.status >= 500 && !(a.status === 503 && isProblem(a.contentType, a.body, 503)))
    .map((a) => `${a.method} ${a.path} answered ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`);
}

/**
 * Calls `send` until it gets an answer that is not a 503, honouring Retry-After (capped: the test
 * has a clock), with the same Idempotency-Key every time so a retry applies nothing twice.
 */
export async function untilNot503(
  send: (idempotencyKey: string) => Promise<Answer>,
  timeoutMs = 120_000,
): Promise<Answer> {
  const key = randomUUID();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await send(key);
    if (answer.status !== 503 || Date.now() > deadline) return answer;
    const retryAfter = Number(answer.headers.get('retry-after') ?? '1');
    await new Promise((r) => setTimeout(r, Math.min(Math.max(retryAfter, 0.2), 1) * 1_000));
  }
}

type Service = { id: string; status: string; revision: number };

/**
 * A lifecycle through HTTP only: alice creates, submits; ada approves (after reading the
 * production policies she reviews), rejects, or deactivates once active. 503s are retried with
 * the same key; any other unexpected status fails. Returns the service ID (the Lifecycle's).
 */
export async function driveLifecycleOverHttp(
  api: FaultApi,
  plan: Lifecycle['plan'],
  waitActive: (serviceId: string) => Promise<unknown>,
): Promise<string> {
  const expect = (what: string, answer: Answer, statuses: number[]) => {
    if (!statuses.includes(answer.status))
      throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 400)}`);
    return answer.body as Service & Record<string, unknown>;
  };
  const created = expect(
    'create',
    await untilNot503((key) =>
      api.call(
        'POST',
        '/v1/backend-services',
        'alice',
        {
          name: 'Fault lifecycle',
          contactEmail: 'ops@acme.example',
          authMethod: { type: 'client_secret' },
          scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read', 'search'] }] },
        },
        { 'Idempotency-Key': key },
      ),
    ),
    [201],
  );
  const id = created.id;
  if (plan === 'draft') return id;
  expect(
    'submit',
    await untilNot503((key) =>
      api.call('POST', `/v1/backend-services/${id}/submit`, 'alice', undefined, { 'Idempotency-Key': key }),
    ),
    [200],
  );
  if (plan === 'declined') {
    expect(
      'reject',
      await untilNot503((key) =>
        api.call(
          'POST',
          `/v1/admin/backend-services/${id}/reject`,
          'ada',
          { reason: 'not this quarter' },
          { 'Idempotency-Key': key },
        ),
      ),
      [200],
    );
    return id;
  }
  const policies = expect(
    'production-policies',
    await untilNot503(() => api.call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada')),
    [200],
  );
  expect(
    'approve',
    await untilNot503((key) =>
      api.call(
        'POST',
        `/v1/admin/backend-services/${id}/approve`,
        'ada',
        { revision: policies.revision, policyHash: policies.policyHash },
        { 'Idempotency-Key': key },
      ),
    ),
    [202],
  );
  await waitActive(id);
  if (plan === 'deactivated') {
    expect(
      'deactivate',
      await untilNot503((key) =>
        api.call(
          'POST',
          `/v1/admin/backend-services/${id}/deactivate`,
          'ada',
          { reason: 'contract ended' },
          { 'Idempotency-Key': key },
        ),
      ),
      [200],
    );
  }
  return id;
}
