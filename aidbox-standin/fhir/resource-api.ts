/**
 * The REST handlers behind every resource route (docs/aidbox-contract.md §6; §3 and §5 for
 * OrgBAC and export). One function per route action, shared by the HTTP server and by transaction
 * bundle entries.
 */
import { hashSecret } from '../auth/secrets.js';
import { HttpError, forbidden, invalid, notFound } from '../http/outcome.js';
import type { Route } from '../policy/request.js';
import { parseQueryParams } from '../policy/request.js';
import type { Resource, ResourceStore } from '../store/store.js';
import { parseIfMatch } from '../store/store.js';
import { validateResource } from '../store/validation.js';
import { apiBasePath, type ApiRequest, type ApiResponse } from './api-exchange.js';
import { executeBundle } from './bundle.js';
import { EXPORT_RETRY_AFTER_SECONDS, type ExportJobs } from './export.js';
import { isVisibleTo, stampTenant } from './orgbac.js';
import { jsonPatch, mergePatch, patchKind } from './patch.js';
import { isKnownType } from './resource-types.js';
import { search, searchBundle } from './search.js';

export interface StandinHooks {
  /** Called after a Client PUT has been applied, before the response is sent (for crash tests). */
  afterClientPut?: (client: Resource) => void | Promise<void>;
}

export interface ResourceApiDeps {
  store: ResourceStore;
  exports: ExportJobs;
  hooks: StandinHooks;
  baseUrl: () => string;
  orgbac: boolean;
  capabilityStatement: (organizationId?: string) => Record<string, unknown>;
}

const asObject = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;

/** `secret` is stored hashed, whatever the write (section 1.1). */
function hashIncomingSecret(type: string, body: Record<string, unknown>): Record<string, unknown> {
  if (type !== 'Client' || typeof body.secret !== 'string') return body;
  return { ...body, secret: hashSecret(body.secret) };
}

function resourceHeaders(resource: Resource, baseUrl: string, route: Route): Record<string, string> {
  const prefix = apiBasePath(route);
  return {
    ETag: `W/"${resource.meta?.versionId}"`,
    'Last-Modified': new Date(resource.meta?.lastUpdated ?? Date.now()).toUTCString(),
    Location: `${baseUrl}${prefix}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`,
  };
}

export class ResourceApi {
  constructor(private readonly deps: ResourceApiDeps) {}

  private get store(): ResourceStore {
    return this.deps.store;
  }

  /** Checks the type, and under OrgBAC that the organization exists. */
  private checkTarget(route: Route): string {
    const type = route.resourceType;
    if (type !== undefined && !isKnownType(type)) throw notFound(`Resource type ${type}`);
    if (route.organizationId !== undefined && !this.store.get('Organization', route.organizationId)) {
      throw notFound(`Organization/${route.organizationId}`);
    }
    return type ?? '';
  }

  private assertVisible(route: Route, resource: Resource): void {
    if (route.organizationId !== undefined && !isVisibleTo(this.store, resource, route.organizationId)) {
      throw forbidden(`${resource.resourceType}/${resource.id} belongs to another organization`);
    }
  }

  /**
   * Every resource of a type the route's API can see, uncopied (the store's `scan`): search copies
   * only the page it answers with, history and exports copy what they keep.
   */
  private visible(route: Route, type: string): Resource[] {
    const all = this.store.scan(type) as Resource[];
    return route.organizationId === undefined
      ? all
      : all.filter((r) => isVisibleTo(this.store, r, route.organizationId!));
  }

  private readExisting(route: Route, type: string, id: string): Resource {
    const result = this.store.read(type, id);
    if (result.state === 'absent') throw notFound(`${type}/${id}`);
    if (result.state === 'deleted') throw new HttpError(410, 'deleted', `${type}/${id} was deleted`);
    this.assertVisible(route, result.resource);
    return result.resource;
  }

  private prepareWrite(route: Route, type: string, body: unknown, urlId?: string): Record<string, unknown> {
    validateResource(type, body, urlId);
    let prepared = hashIncomingSecret(type, body);
    if (route.organizationId !== undefined) prepared = stampTenant(prepared, route.organizationId);
    return prepared;
  }

  async execute(request: ApiRequest): Promise<ApiResponse> {
    const { route } = request;
    const type = this.checkTarget(route);
    const baseUrl = this.deps.baseUrl();
    const params = parseQueryParams(request.url.search);
    const ifMatch = parseIfMatch(request.headers.ifMatch);
    const headersOf = (r: Resource) => resourceHeaders(r, baseUrl, route);

    switch (route.action) {
      case 'read': {
        const resource = this.readExisting(route, type, route.id!);
        return { status: 200, body: resource, headers: headersOf(resource) };
      }
      case 'vread': {
        this.readExisting(route, type, route.id!);
        const version = this.store.version(type, route.id!, route.versionId!);
        if (!version) throw notFound(`${type}/${route.id}/_history/${route.versionId}`);
        return { status: 200, body: version, headers: headersOf(version) };
      }
      case 'search':
      case 'post-search': {
        const formParams =
          route.action === 'post-search' && typeof request.body === 'string'
            ? parseQueryParams(request.body)
            : {};
        const result = search(this.visible(route, type), { ...params, ...formParams });
        return { status: 200, body: searchBundle(result, request.url, baseUrl) };
      }
      case 'create': {
        const body = this.prepareWrite(route, type, request.body);
        const resource = this.store.create(type, body, route.api === 'aidbox');
        return { status: 201, body: resource, headers: headersOf(resource) };
      }
      case 'update':
        return this.update(route, type, route.id!, request.body, ifMatch);
      case 'patch': {
        const existing = this.readExisting(route, type, route.id!);
        return this.patch(route, type, existing, request, ifMatch);
      }
      case 'delete': {
        const existing = this.store.get(type, route.id!);
        if (existing) this.assertVisible(route, existing);
        const deleted = this.store.delete(type, route.id!, ifMatch);
        if (!deleted || params['_no-content'] === 'true') return { status: 204 };
        return { status: 200, body: deleted };
      }
      case 'conditional-update':
      case 'conditional-patch':
      case 'conditional-delete':
        return this.conditional(route, type, request, params, ifMatch);
      case 'history':
      case 'history-type': {
        const versions =
          route.action === 'history'
            ? (this.readExisting(route, type, route.id!), this.store.history(type, route.id!))
            : this.visible(route, type).map((r) => structuredClone(r));
        return {
          status: 200,
          body: {
            resourceType: 'Bundle',
            type: 'history',
            total: versions.length,
            entry: versions.map((resource) => ({ resource })),
          },
        };
      }
      case 'transaction':
        return executeBundle(route, request, {
          store: this.store,
          orgbac: this.deps.orgbac,
          baseUrl: () => this.deps.baseUrl(),
          execute: (entry) => this.execute(entry),
        });
      case 'capability':
        return { status: 200, body: this.deps.capabilityStatement(route.organizationId) };
      case 'export-system':
      case 'export-patient':
      case 'export-group':
        return this.startExport(route, request, params);
      case 'export-status': {
        const owner = { caller: request.caller, organizationId: route.organizationId };
        const result = this.deps.exports.status(route.exportId!, owner, baseUrl);
        return result.status === 202
          ? {
              status: 202,
              headers: {
                'X-Progress': 'in-progress',
                'Retry-After': String(EXPORT_RETRY_AFTER_SECONDS),
              },
            }
          : {
              status: 200,
              body: result.body,
              headers: { Expires: new Date(Date.now() + 3_600_000).toUTCString() },
            };
      }
      case 'export-delete':
        this.deps.exports.cancel(route.exportId!, {
          caller: request.caller,
          organizationId: route.organizationId,
        });
        return { status: 202 };
      default:
        throw notFound(request.url.pathname);
    }
  }

  private async update(
    route: Route,
    type: string,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<ApiResponse> {
    const existing = this.store.get(type, id);
    if (existing) this.assertVisible(route, existing);
    const prepared = this.prepareWrite(route, type, body, id);
    const { created, resource } = this.store.put(type, id, prepared, ifMatch);
    if (type === 'Client') await this.deps.hooks.afterClientPut?.(resource);
    return {
      status: created ? 201 : 200,
      body: resource,
      headers: resourceHeaders(resource, this.deps.baseUrl(), route),
    };
  }

  private patch(
    route: Route,
    type: string,
    existing: Resource,
    request: ApiRequest,
    ifMatch?: string,
  ): ApiResponse {
    const method = parseQueryParams(request.url.search)._method;
    const kind = patchKind(
      request.contentType,
      typeof method === 'string' ? method : undefined,
      request.body,
    );
    let patched: unknown;
    if (kind === 'merge') {
      if (typeof request.body !== 'object' || request.body === null)
        throw invalid('a merge-patch body must be a JSON object');
      // The secret in the patch is hashed before merging; a stored hash is never hashed again.
      patched = mergePatch(existing, hashIncomingSecret(type, asObject(request.body)));
    } else {
      const operations = Array.isArray(request.body)
        ? request.body.map((op: { path?: string; value?: unknown }) =>
            type === 'Client' && op?.path === '/secret' && typeof op.value === 'string'
              ? { ...op, value: hashSecret(op.value) }
              : op,
          )
        : request.body;
      patched = jsonPatch(existing, operations);
    }
    const record = { ...asObject(patched), resourceType: type, id: existing.id };
    validateResource(type, record, existing.id);
    const next = route.organizationId !== undefined ? stampTenant(record, route.organizationId) : record;
    const resource = this.store.update(type, existing.id, next, ifMatch);
    return {
      status: 200,
      body: resource,
      headers: resourceHeaders(resource, this.deps.baseUrl(), route),
    };
  }

  /** Conditional update/patch/delete by search (section 6): 0, 1 or several matches. */
  private async conditional(
    route: Route,
    type: string,
    request: ApiRequest,
    params: Record<string, string | string[]>,
    ifMatch?: string,
  ): Promise<ApiResponse> {
    const matches = search(this.visible(route, type), { ...params, _count: '1000' }).resources;
    if (route.action === 'conditional-delete') {
      if (matches.length > 1)
        throw new HttpError(412, 'conflict', 'several resources match the conditional delete');
      if (matches.length === 0) return { status: 204 };
      const deleted = this.store.delete(type, matches[0]!.id, ifMatch);
      return deleted ? { status: 200, body: deleted } : { status: 204 };
    }
    if (matches.length > 1)
      throw new HttpError(
        412,
        'conflict',
        `several resources match the conditional ${route.action === 'conditional-update' ? 'update' : 'patch'}`,
      );
    if (route.action === 'conditional-patch') {
      if (!matches[0]) throw notFound(`${type} matching the conditional patch`);
      return this.patch(route, type, matches[0], request, ifMatch);
    }
    const bodyId =
      typeof asObject(request.body)?.id === 'string' ? (asObject(request.body).id as string) : undefined;
    const id = matches[0]?.id ?? bodyId ?? crypto.randomUUID();
    return this.update(route, type, id, request.body, ifMatch);
  }

  private startExport(
    route: Route,
    request: ApiRequest,
    params: Record<string, string | string[]>,
  ): ApiResponse {
    let groupPatientIds: string[] | undefined;
    if (route.action === 'export-group') {
      const group = this.readExisting(route, 'Group', route.id!);
      groupPatientIds = ((group.member ?? []) as Array<{ entity?: { reference?: string } }>)
        .map((m) => m.entity?.reference)
        .filter((r): r is string => typeof r === 'string' && r.startsWith('Patient/'))
        .map((r) => r.slice('Patient/'.length));
    }
    const level =
      route.action === 'export-group' ? 'group' : route.action === 'export-patient' ? 'patient' : 'system';
    const id = this.deps.exports.start({
      level,
      requestUrl: request.url.toString(),
      owner: { caller: request.caller, organizationId: route.organizationId },
      params,
      headers: { prefer: request.headers.prefer, accept: request.headers.accept },
      groupPatientIds,
      collect: (type) => this.visible(route, type).map((r) => structuredClone(r)),
    });
    return {
      status: 202,
      headers: { 'Content-Location': `${this.deps.baseUrl()}${apiBasePath(route)}/$export-status/${id}` },
    };
  }
}
