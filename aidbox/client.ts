/**
 * The product's typed Aidbox REST client (docs/aidbox-contract.md §8), one instance per environment
 * (sandbox, production): base URL + admin Basic credentials.
 *
 * Idempotent by construction (docs/architecture.md, "Activities touching Aidbox"):
 * - a Client is created with PUT only when absent, and only then carries the secret; an existing
 *   Client is changed by merge-patch, so the stored secret hash is never dropped (section 6,
 *   "Do not PUT a full Client without the secret");
 * - AccessPolicies are PUT by deterministic id;
 * - DELETE answering 404/410 (or 204) counts as done.
 * No call retries by itself: errors are classified (errors.ts) and Temporal retries the activity.
 */
import { AidboxPermanentError, errorForNetwork, errorForStatus } from './errors.js';
import { deepEqual, mergePatchDiff } from './merge-patch.js';
import type { AccessPolicyResource, AidboxClientResource, OrganizationResource } from './resources.js';

export * from './errors.js';
export * from './resources.js';

/** How the registry reaches one Aidbox (sandbox or production): its admin URL and credentials. */
export interface AidboxConnection {
  name: 'sandbox' | 'production';
  /** Admin URL the registry calls. */
  baseUrl: string;
  /** URL shown to developers (FHIR base `<publicUrl>/fhir`, token URL `<publicUrl>/auth/token`). */
  publicUrl?: string;
  clientId: string;
  clientSecret: string;
  orgbac?: boolean;
}

export interface AidboxClientOptions {
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface UpsertClientOptions {
  /** Plaintext secret: sent when the Client is created, and on an existing Client only with `rotateSecret`. */
  secret?: string;
  /**
   * Fetches the plaintext secret, called only when the Client does not exist yet: the caller need
   * not read the Client first to know whether a secret is needed (one GET per upsert, not two).
   */
  secretForNewClient?: () => Promise<string | undefined>;
  /** Replace the stored secret with `secret` (rotation, or a switch to secret authentication). */
  rotateSecret?: boolean;
  /** Remove a stored secret (a switch to private_key_jwt). */
  removeSecret?: boolean;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface SearchPage<T> {
  resources: T[];
  total?: number;
  /** The next `page` to ask for, when there is one. */
  nextPage?: number;
}

export interface HealthResult {
  ok: boolean;
  status?: number;
  error?: string;
}

export interface DisableResult {
  clientFound: boolean;
  policiesRemoved: string[];
  sessionsRevoked: number;
}

interface Response<T = unknown> {
  status: number;
  body: T | undefined;
}

/** Fields Aidbox manages, or that the upsert handles separately: never part of a computed patch. */
const UNPATCHED_FIELDS = new Set(['resourceType', 'id', 'secret', 'meta']);

const referenceTo = (type: string, id: string) => `${type}/${id}`;

export class AidboxClient {
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    readonly environment: AidboxConnection,
    options: AidboxClientOptions = {},
  ) {
    this.authorization = `Basic ${Buffer.from(`${environment.clientId}:${environment.clientSecret}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** One HTTP call; statuses in `accept` are returned, other non-2xx throw a classified error. */
  private async call<T>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      contentType?: string;
      headers?: Record<string, string>;
      accept?: number[];
    } = {},
  ): Promise<Response<T>> {
    const url = `${this.environment.baseUrl.replace(/\/+$/, '')}${path}`;
    let response: globalThis.Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          Authorization: this.authorization,
          Accept: 'application/json',
          ...(options.body !== undefined
            ? { 'Content-Type': options.contentType ?? 'application/json' }
            : {}),
          ...options.headers,
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw errorForNetwork(method, path, error);
    }
    const accepted = response.ok || (options.accept ?? []).includes(response.status);
    if (!accepted) {
      // The body is drained and dropped: Aidbox error bodies never reach messages or logs.
      await response.body?.cancel().catch(() => undefined);
      throw errorForStatus(method, path, response.status, response.headers.get('retry-after'));
    }
    let body: T | undefined;
    try {
      const text = await response.text();
      body = text === '' ? undefined : (JSON.parse(text) as T);
    } catch (error) {
      if ((error as Error).name === 'SyntaxError')
        throw new AidboxPermanentError(
          `Aidbox ${method} ${path} answered ${response.status} with a body that is not JSON`,
          method,
          path,
          response.status,
          undefined,
        );
      throw errorForNetwork(method, path, error);
    }
    return { status: response.status, body };
  }

  /** GET /health (section 8 call 0). Never throws. */
  async health(): Promise<HealthResult> {
    try {
      const { status, body } = await this.call<{ status?: string }>('GET', '/health');
      return { ok: body?.status === undefined || body.status === 'pass', status };
    } catch (error) {
      const status = (error as { status?: number }).status;
      return { ok: false, status, error: (error as Error).message };
    }
  }

  // ---- Clients ----------------------------------------------------------------------------

  /** The Client as Aidbox holds it (secret hashed), or undefined when absent or deleted (section 8 call 6). */
  async readClient(id: string): Promise<AidboxClientResource | undefined> {
    const { status, body } = await this.call<AidboxClientResource>(
      'GET',
      `/fhir/Client/${encodeURIComponent(id)}`,
      { accept: [404, 410] },
    );
    return status === 200 ? body : undefined;
  }

  /**
   * Creates or updates a Client (section 8 calls 1, 1b, 3) without ever dropping its secret:
   * absent → PUT with the secret; present → merge-patch of the differences (If-Match on the
   * version read, so a concurrent change answers 412 and the retry starts over).
   */
  async upsertClient(
    desired: AidboxClientResource,
    options: UpsertClientOptions = {},
  ): Promise<{ outcome: UpsertOutcome; client: AidboxClientResource }> {
    const path = `/fhir/Client/${encodeURIComponent(desired.id)}`;
    const current = await this.readClient(desired.id);
    if (!current) {
      const body: AidboxClientResource = { ...desired };
      delete body.secret;
      const secret = options.secret ?? (await options.secretForNewClient?.());
      if (secret !== undefined) body.secret = secret;
      const { body: created } = await this.call<AidboxClientResource>('PUT', path, { body });
      return { outcome: 'created', client: created! };
    }

    const patch = mergePatchDiff(current, desired, UNPATCHED_FIELDS);
    if (
      desired.meta?.extension !== undefined &&
      !deepEqual(current.meta?.extension, desired.meta.extension)
    ) {
      patch.meta = { extension: desired.meta.extension };
    }
    if (options.rotateSecret && options.secret !== undefined) patch.secret = options.secret;
    else if (options.removeSecret && current.secret !== undefined) patch.secret = null;
    if (Object.keys(patch).length === 0) return { outcome: 'unchanged', client: current };

    const { body: updated } = await this.call<AidboxClientResource>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
      headers: current.meta?.versionId ? { 'If-Match': current.meta.versionId } : {},
    });
    return { outcome: 'updated', client: updated! };
  }

  /** Merge-patch of a Client (section 8 call 1b); 404 when it does not exist is a permanent error. */
  async patchClient(id: string, patch: Record<string, unknown>): Promise<AidboxClientResource> {
    const { body } = await this.call<AidboxClientResource>(
      'PATCH',
      `/fhir/Client/${encodeURIComponent(id)}`,
      {
        body: patch,
        contentType: 'application/merge-patch+json',
      },
    );
    return body!;
  }

  /** Replaces the one secret Aidbox keeps (section 8 call 3): the old one stops working at once. */
  async rotateSecret(id: string, secret: string): Promise<void> {
    await this.patchClient(id, { secret });
  }

  /**
   * Disable (section 8 call 4): active false (plus any extra patch, e.g. the status extension),
   * every linked policy removed, every session revoked. Safe to repeat; an absent Client still has
   * its policies and sessions cleaned up.
   */
  async disableClient(id: string, extraPatch: Record<string, unknown> = {}): Promise<DisableResult> {
    const { status } = await this.call('PATCH', `/fhir/Client/${encodeURIComponent(id)}`, {
      body: { ...extraPatch, active: false },
      contentType: 'application/merge-patch+json',
      accept: [404, 410],
    });
    const policies = await this.listAccessPoliciesForClient(id);
    for (const policy of policies) await this.deleteAccessPolicy(policy.id);
    const sessionsRevoked = await this.revokeSessions(id);
    return { clientFound: status === 200, policiesRemoved: policies.map((p) => p.id), sessionsRevoked };
  }

  /** Delete (section 8 call 5): policies first, then sessions, then the Client. */
  async deleteClient(id: string): Promise<void> {
    for (const policy of await this.listAccessPoliciesForClient(id)) await this.deleteAccessPolicy(policy.id);
    await this.revokeSessions(id);
    await this.delete(`/fhir/Client/${encodeURIComponent(id)}`);
  }

  // ---- AccessPolicies ---------------------------------------------------------------------

  /** PUT by deterministic id (section 8 call 2): a repeat is a no-op update. */
  async upsertAccessPolicy(policy: AccessPolicyResource): Promise<{ outcome: 'created' | 'updated' }> {
    const { status } = await this.call('PUT', `/fhir/AccessPolicy/${encodeURIComponent(policy.id)}`, {
      body: policy,
    });
    return { outcome: status === 201 ? 'created' : 'updated' };
  }

  async readAccessPolicy(id: string): Promise<AccessPolicyResource | undefined> {
    const { status, body } = await this.call<AccessPolicyResource>(
      'GET',
      `/fhir/AccessPolicy/${encodeURIComponent(id)}`,
      { accept: [404, 410] },
    );
    return status === 200 ? body : undefined;
  }

  async deleteAccessPolicy(id: string): Promise<void> {
    await this.delete(`/fhir/AccessPolicy/${encodeURIComponent(id)}`);
  }

  /**
   * The AccessPolicies linked to a Client, to find stale ones. Asks with `link=Client/<id>` (a
   * custom SearchParameter on a real Aidbox) and filters the answer itself, so a server that
   * ignores the parameter still gives the right list.
   */
  async listAccessPoliciesForClient(clientId: string): Promise<AccessPolicyResource[]> {
    const target = referenceTo('Client', clientId);
    const all = await this.searchAll<AccessPolicyResource>('AccessPolicy', { link: target });
    return all.filter((policy) =>
      (policy.link ?? []).some((link) => {
        const l = link as { reference?: string; resourceType?: string; id?: string };
        return l.reference === target || (l.resourceType === 'Client' && l.id === clientId);
      }),
    );
  }

  // ---- Sessions ---------------------------------------------------------------------------

  /** Revokes every token of a Client by deleting its Sessions (section 8 call 4c); returns how many. */
  async revokeSessions(clientId: string): Promise<number> {
    const target = referenceTo('Client', clientId);
    const sessions = (
      await this.searchAll<{ id: string; client?: { reference?: string } }>('Session', { client: target })
    ).filter((s) => s.client?.reference === target);
    for (const session of sessions) await this.delete(`/fhir/Session/${encodeURIComponent(session.id)}`);
    return sessions.length;
  }

  // ---- Organizations ----------------------------------------------------------------------

  /** One page of Organizations (name search is FHIR string search: starts-with, case-insensitive). */
  async listOrganizations(
    options: { name?: string; count?: number; page?: number } = {},
  ): Promise<SearchPage<OrganizationResource>> {
    const count = options.count ?? 50;
    const page = options.page ?? 1;
    const params: Record<string, string> = { _count: String(count), _page: String(page) };
    if (options.name) params.name = options.name;
    return this.searchPage<OrganizationResource>('Organization', params, page);
  }

  /**
   * The Organizations whose `partOf` is this one (FHIR search parameter `partof`); the answer is
   * filtered again here, so a server that ignored the parameter cannot make every Organization a child.
   */
  async listChildOrganizations(id: string): Promise<OrganizationResource[]> {
    const target = referenceTo('Organization', id);
    const all = await this.searchAll<OrganizationResource>('Organization', { partof: target });
    return all.filter((o) => o.partOf?.reference === target);
  }

  async readOrganization(id: string): Promise<OrganizationResource | undefined> {
    const { status, body } = await this.call<OrganizationResource>(
      'GET',
      `/fhir/Organization/${encodeURIComponent(id)}`,
      { accept: [404, 410] },
    );
    return status === 200 ? body : undefined;
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** DELETE where 200, 204, 404 and 410 all mean "gone" (section 6; docs/architecture.md). */
  private async delete(path: string): Promise<void> {
    await this.call('DELETE', path, { accept: [404, 410] });
  }

  private async searchPage<T>(
    type: string,
    params: Record<string, string>,
    page: number,
  ): Promise<SearchPage<T>> {
    const query = new URLSearchParams(params).toString();
    const { body } = await this.call<{
      total?: number;
      entry?: Array<{ resource: T }>;
      link?: Array<{ relation: string }>;
    }>('GET', `/fhir/${type}?${query}`);
    const resources = (body?.entry ?? []).map((e) => e.resource);
    const hasNext = (body?.link ?? []).some((l) => l.relation === 'next');
    return { resources, total: body?.total, nextPage: hasNext ? page + 1 : undefined };
  }

  /** Every page of a search (bounded, so a server ignoring `_page` cannot loop us forever). */
  private async searchAll<T>(type: string, params: Record<string, string>, maxPages = 100): Promise<T[]> {
    const results: T[] = [];
    for (let page = 1; page <= maxPages; page += 1) {
      const result = await this.searchPage<T>(type, { ...params, _count: '100', _page: String(page) }, page);
      results.push(...result.resources);
      if (result.nextPage === undefined || result.resources.length === 0) break;
    }
    return results;
  }
}
