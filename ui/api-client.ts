import type { z } from '@hono/zod-openapi';
import type { AssertionCheckResponse, JwksReportResponse } from '../api/schemas/credentials.js';
import type { ProblemSchema, pageOf } from '../api/schemas/common.js';
import type { OrganizationSchema } from '../api/schemas/organizations.js';
import type {
  RegistrationInput as RegistrationInputSchema,
  RegistrationPatch,
} from '../api/schemas/registration.js';
import type {
  ProductionPoliciesResponse,
  ReviewQueueItem as ReviewQueueItemSchema,
} from '../api/schemas/review.js';
import type { ServiceDetailSchema } from '../api/schemas/service-detail.js';
import type { HistorySchema, ServiceSchema, ServiceWithSecretSchema } from '../api/schemas/service.js';

/**
 * The pages' only way to the back end: the JSON API, called in-process with the signed-in user's
 * bearer token. Authorization, validation and idempotency are therefore exactly what any API
 * caller gets; the pages never read the database or talk to Temporal.
 */
export type Fetcher = (path: string, init: RequestInit) => Response | Promise<Response>;

// What the API answers, inferred from the schemas its OpenAPI document is generated from: the pages
// read what the API documents, and a change there shows here as a type error.
export type Problem = z.infer<typeof ProblemSchema>;
export type Service = z.infer<typeof ServiceSchema>;
/** The service with what the caller may do with it (only the detail answers it). */
export type ServiceDetail = z.infer<typeof ServiceDetailSchema>;
export type ServiceAction = ServiceDetail['allowedActions'][number];
export type ServiceWithSecret = z.infer<typeof ServiceWithSecretSchema>;
export type ReviewQueueItem = z.infer<typeof ReviewQueueItemSchema>;
export type Page<T> = z.infer<ReturnType<typeof pageOf<z.ZodType<T>>>>;
export type HistoryItem = z.infer<typeof HistorySchema>['items'][number];
export type JwksReportAnswer = z.infer<typeof JwksReportResponse>;
export type JwksReport = NonNullable<JwksReportAnswer['report']>;
export type Organization = z.infer<typeof OrganizationSchema>;
export type ProductionPolicies = z.infer<typeof ProductionPoliciesResponse>;
export type AssertionCheckAnswer = z.infer<typeof AssertionCheckResponse>;
export type RegistrationInput = z.input<typeof RegistrationInputSchema>;
export type RegistrationPatchInput = z.input<typeof RegistrationPatch>;

export type Answer<T> =
  | { ok: true; status: number; body: T; headers: Headers }
  | { ok: false; status: number; problem: Problem; headers: Headers };

function canCarry(name: string, value: string): boolean {
  try {
    new Headers({ [name]: value });
    return true;
  } catch {
    return false;
  }
}

export class ApiClient {
  constructor(
    private readonly fetcher: Fetcher,
    private readonly token: string,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    options: { body?: unknown; idempotencyKey?: string; ifMatch?: string; contentType?: string } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
    };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    if (options.ifMatch) headers['If-Match'] = options.ifMatch;
    // Form values end up in these headers; one a header cannot carry at all (NUL, CR, LF, beyond
    // Latin-1) would throw in the client, so it is answered here as the API answers a bad header.
    for (const [name, value] of Object.entries(headers)) {
      if (canCarry(name, value)) continue;
      const problem: Problem = {
        type: '/problems/validation-error',
        title: 'The request is not valid',
        status: 400,
        detail: 'The request has invalid fields; see errors.',
        errors: [{ field: name, message: `${name} contains characters a header cannot carry` }],
      };
      return { ok: false, status: 400, problem, headers: new Headers() };
    }
    const response = await this.fetcher(path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    // The one place an answer gets its type: each method below names the type inferred from its
    // route's schema; the pages trust their own API rather than validate every answer again.
    if (response.ok)
      return { ok: true, status: response.status, body: parsed as T, headers: response.headers };
    const problem =
      parsed && typeof parsed === 'object' && 'status' in parsed
        ? (parsed as Problem)
        : { type: 'about:blank', title: response.statusText || 'Error', status: response.status, detail: '' };
    return { ok: false, status: response.status, problem, headers: response.headers };
  }

  listOwn(cursor?: string) {
    return this.call<Page<Service>>('GET', `/v1/backend-services?limit=50${cursorParam(cursor)}`);
  }
  get(id: string) {
    return this.call<ServiceDetail>('GET', `/v1/backend-services/${encodeURIComponent(id)}`);
  }
  history(id: string) {
    return this.call<z.infer<typeof HistorySchema>>(
      'GET',
      `/v1/backend-services/${encodeURIComponent(id)}/history`,
    );
  }
  jwksReport(id: string) {
    return this.call<JwksReportAnswer>('GET', `/v1/backend-services/${encodeURIComponent(id)}/jwks-report`);
  }
  organizations() {
    return this.call<Page<Organization>>('GET', '/v1/organizations?limit=100');
  }
  register(input: RegistrationInput, idempotencyKey: string) {
    return this.call<ServiceWithSecret>('POST', '/v1/backend-services', { body: input, idempotencyKey });
  }
  edit(id: string, patch: RegistrationPatchInput, revision: number, idempotencyKey: string) {
    return this.call<Service>('PATCH', `/v1/backend-services/${encodeURIComponent(id)}`, {
      body: patch,
      idempotencyKey,
      ifMatch: `"${revision}"`,
      contentType: 'application/merge-patch+json',
    });
  }
  submit(id: string, idempotencyKey: string) {
    return this.call<Service>('POST', `/v1/backend-services/${encodeURIComponent(id)}/submit`, {
      idempotencyKey,
    });
  }
  recheckCredentials(id: string, idempotencyKey: string) {
    return this.call<Service>('POST', `/v1/backend-services/${encodeURIComponent(id)}/recheck-credentials`, {
      idempotencyKey,
    });
  }
  rotateSecret(id: string, idempotencyKey: string, activateAt?: string) {
    return this.call<ServiceWithSecret>(
      'POST',
      `/v1/backend-services/${encodeURIComponent(id)}/rotate-secret`,
      { idempotencyKey, ...(activateAt ? { body: { activateAt } } : {}) },
    );
  }
  /** The owner's commands without a body (withdraw, delete, the staged secret's controls). */
  ownerAction(
    id: string,
    action: 'withdraw' | 'delete' | 'activate-staged-secret' | 'drop-staged-secret',
    idempotencyKey: string,
  ) {
    const base = `/v1/backend-services/${encodeURIComponent(id)}`;
    const [method, path] =
      action === 'delete'
        ? ['DELETE', base]
        : action === 'drop-staged-secret'
          ? ['DELETE', `${base}/staged-secret`]
          : ['POST', `${base}/${action}`];
    return this.call<Service>(method, path, { idempotencyKey });
  }
  dropPendingChange(id: string, idempotencyKey: string) {
    return this.call<Service>('DELETE', `/v1/backend-services/${encodeURIComponent(id)}/pending-change`, {
      idempotencyKey,
    });
  }
  revoke(id: string, reason: string, idempotencyKey: string) {
    return this.call<Service>('POST', `/v1/backend-services/${encodeURIComponent(id)}/revoke`, {
      body: { reason },
      idempotencyKey,
    });
  }
  assertionCheck(id: string, environment: string, clientAssertion: string, idempotencyKey: string) {
    return this.call<AssertionCheckAnswer>(
      'POST',
      `/v1/backend-services/${encodeURIComponent(id)}/assertion-check`,
      {
        body: { environment, clientAssertion },
        idempotencyKey,
      },
    );
  }
  reviewQueue(cursor?: string) {
    return this.call<Page<ReviewQueueItem>>('GET', `/v1/admin/review-queue?limit=100${cursorParam(cursor)}`);
  }
  adminList(status: string | undefined, cursor?: string, health?: 'ok' | 'failing') {
    const filter = `${status ? `&status=${encodeURIComponent(status)}` : ''}${health ? `&health=${health}` : ''}`;
    return this.call<Page<Service>>(
      'GET',
      `/v1/admin/backend-services?limit=100${filter}${cursorParam(cursor)}`,
    );
  }
  productionPolicies(id: string) {
    return this.call<ProductionPolicies>(
      'GET',
      `/v1/admin/backend-services/${encodeURIComponent(id)}/production-policies`,
    );
  }
  approve(id: string, revision: number, policyHash: string, idempotencyKey: string) {
    return this.call<Service>('POST', `/v1/admin/backend-services/${encodeURIComponent(id)}/approve`, {
      body: { revision, policyHash },
      idempotencyKey,
    });
  }
  decide(id: string, action: 'reject' | 'deactivate', reason: string, idempotencyKey: string) {
    return this.call<Service>('POST', `/v1/admin/backend-services/${encodeURIComponent(id)}/${action}`, {
      body: { reason },
      idempotencyKey,
    });
  }
}

const cursorParam = (cursor?: string) => (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
