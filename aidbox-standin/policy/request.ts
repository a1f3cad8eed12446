/**
 * Routing and the policy request object of the Aidbox stand-in (docs/aidbox-contract.md §2.1, §3, §5).
 *
 * `routeRequest` maps method + path to what the server does and to Aidbox's operation id; the HTTP
 * server dispatches with it, and `buildPolicyRequest` builds from it the object AccessPolicies
 * match against, so the engine always sees exactly what the server routed.
 *
 * Three APIs (section 5, "Base URL conventions"; section 3):
 * - FHIR API under `/fhir` (operation ids `FhirRead`, `FhirSearch`, …);
 * - Aidbox-format API at the root (`Read`, `Search`, …);
 * - with OrgBAC on, the per-organization FHIR API under `/Organization/<org>/fhir`
 *   (`orgbac-fhir-*` ids, `params.organization/id`).
 */
import type { PolicyRequest } from './types.js';

export type { PolicyRequest } from './types.js';

export type RouteAction =
  | 'read'
  | 'vread'
  | 'search'
  | 'post-search'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'conditional-update'
  | 'conditional-patch'
  | 'conditional-delete'
  | 'history'
  | 'history-type'
  | 'transaction'
  | 'capability'
  | 'export-system'
  | 'export-patient'
  | 'export-group'
  | 'export-status'
  | 'export-delete'
  | 'export-file'
  | 'smart-configuration'
  | 'jwks'
  | 'health'
  | 'token';

export type Api = 'fhir' | 'aidbox' | 'orgbac-fhir' | 'system';

export interface Route {
  action: RouteAction;
  api: Api;
  operationId: string;
  /** Route parameters in Aidbox's spelling (`resource/type`, `resource/id`, `organization/id`). */
  params: Record<string, string>;
  resourceType?: string;
  id?: string;
  versionId?: string;
  organizationId?: string;
  /** The export job id of `$export-status/<id>` and of export files. */
  exportId?: string;
  file?: string;
}

/**
 * Operation ids per API (docs/aidbox-contract.md §2.1). The OrgBAC ids marked "chosen" are not
 * confirmed publicly (section 2.4 step 3, section 9 caveats): only read, search, create, patch and
 * bundle are. The stand-in uses the kebab-case pattern of the confirmed ones.
 */
export const OPERATION_IDS: Record<
  'fhir' | 'aidbox' | 'orgbac-fhir',
  Partial<Record<RouteAction, string>>
> = {
  fhir: {
    read: 'FhirRead',
    vread: 'FhirVread',
    search: 'FhirSearch',
    'post-search': 'FhirPostSearch',
    create: 'FhirCreate',
    update: 'FhirUpdate',
    patch: 'FhirPatch',
    delete: 'FhirDelete',
    'conditional-update': 'FhirConditionalUpdate',
    'conditional-patch': 'FhirConditionalPatch',
    'conditional-delete': 'FhirConditionalDelete',
    history: 'FhirHistory',
    'history-type': 'FhirHistoryType',
    transaction: 'FhirTransaction',
    capability: 'fhir-capability',
    'export-system': 'start-fhir-system-level-export',
    'export-patient': 'start-fhir-patient-level-export',
    'export-group': 'start-fhir-group-level-export',
    'export-status': 'fhir-export-status',
    'export-delete': 'fhir-delete-export',
    'smart-configuration': 'fhir-smart-configuration',
  },
  aidbox: {
    read: 'Read',
    vread: 'Vread', // chosen
    search: 'Search',
    'post-search': 'Search', // chosen
    create: 'Create',
    update: 'Update',
    patch: 'Patch',
    delete: 'Delete',
    'conditional-update': 'ConditionalUpdate',
    'conditional-patch': 'ConditionalPatch', // chosen
    'conditional-delete': 'ConditionalDelete',
    history: 'History', // chosen
    'history-type': 'HistoryType', // chosen
    transaction: 'Transaction', // chosen
    capability: 'metadata',
    'export-system': 'start-system-level-export',
    'export-patient': 'start-patient-level-export',
    'export-group': 'start-group-level-export',
    'export-status': 'export-status',
    'export-delete': 'delete-export',
  },
  'orgbac-fhir': {
    read: 'orgbac-fhir-read',
    vread: 'orgbac-fhir-vread', // chosen
    search: 'orgbac-fhir-search',
    'post-search': 'orgbac-fhir-search', // chosen: POST _search is a search
    create: 'orgbac-fhir-create',
    update: 'orgbac-fhir-update', // chosen (section 2.4: "presumably")
    patch: 'orgbac-fhir-patch',
    delete: 'orgbac-fhir-delete', // chosen (section 2.4: "presumably")
    'conditional-update': 'orgbac-fhir-conditional-update', // chosen
    'conditional-patch': 'orgbac-fhir-conditional-patch', // chosen
    'conditional-delete': 'orgbac-fhir-conditional-delete', // chosen
    history: 'orgbac-fhir-history', // chosen
    'history-type': 'orgbac-fhir-history-type', // chosen
    transaction: 'orgbac-fhir-bundle',
    capability: 'orgbac-fhir-capability', // chosen
    'export-system': 'orgbac-start-fhir-system-level-export', // chosen
    'export-patient': 'orgbac-start-fhir-patient-level-export', // chosen
    'export-group': 'orgbac-start-fhir-group-level-export', // chosen
    'export-status': 'orgbac-fhir-export-status', // chosen
    'export-delete': 'orgbac-fhir-delete-export', // chosen
  },
};

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/** Routes that belong to no resource API (section 5 discovery, section 4 token, section 6 health). */
function systemRoute(method: string, path: string): Route | undefined {
  const get = method === 'GET';
  const system = (action: RouteAction, operationId: string): Route => ({
    action,
    api: 'system',
    operationId,
    params: {},
  });
  if (get && path === '/health') return system('health', 'health');
  if (get && path === '/.well-known/smart-configuration')
    return system('smart-configuration', 'smart-configuration');
  if (get && path === '/fhir/.well-known/smart-configuration')
    return system('smart-configuration', 'fhir-smart-configuration');
  if (get && path === '/.well-known/jwks.json') return system('jwks', 'jwks'); // id chosen
  if (get && path === '/metadata') return system('capability', 'metadata');
  if (method === 'POST' && path === '/auth/token') return system('token', 'auth-token');
  // Stand-in for the signed storage URLs of an export manifest (section 5, bulk export).
  const file = /^\/export-files\/([^/]+)\/([^/]+\.ndjson)$/.exec(path);
  if (get && file) return { ...system('export-file', 'export-file'), exportId: file[1], file: file[2] };
  return undefined;
}

/** Routes inside one resource API, `rest` being the path below the API's base. */
function resourceRoute(
  method: string,
  rest: string[],
  api: 'fhir' | 'aidbox' | 'orgbac-fhir',
): Route | undefined {
  const ids = OPERATION_IDS[api];
  const make = (action: RouteAction, extra: Partial<Route> = {}): Route | undefined => {
    const operationId = ids[action];
    if (!operationId) return undefined;
    const params: Record<string, string> = {};
    if (extra.resourceType) params['resource/type'] = extra.resourceType;
    if (extra.id) params['resource/id'] = extra.id;
    if (extra.versionId) params['_history/id'] = extra.versionId;
    if (extra.exportId) params.id = extra.exportId;
    return { action, api, operationId, params, ...extra };
  };
  const [first, second, third, fourth, ...more] = rest;
  if (more.length > 0) return undefined;

  if (first === undefined) return method === 'POST' ? make('transaction') : undefined;
  if (first === 'metadata' && second === undefined)
    return method === 'GET' && api !== 'aidbox' ? make('capability') : undefined;
  if (first === '$export' && second === undefined)
    return method === 'GET' || method === 'POST' ? make('export-system') : undefined;
  if (first === '$export-status' && second !== undefined && third === undefined) {
    if (method === 'GET') return make('export-status', { exportId: second });
    if (method === 'DELETE') return make('export-delete', { exportId: second });
    return undefined;
  }
  if (!RESOURCE_TYPE.test(first)) return undefined;
  const resourceType = first;

  if (second === undefined) {
    const byMethod: Record<string, RouteAction> = {
      GET: 'search',
      POST: 'create',
      PUT: 'conditional-update',
      PATCH: 'conditional-patch',
      DELETE: 'conditional-delete',
    };
    const action = byMethod[method];
    return action ? make(action, { resourceType }) : undefined;
  }
  if (third === undefined) {
    if (second === '_search') return method === 'POST' ? make('post-search', { resourceType }) : undefined;
    if (second === '_history') return method === 'GET' ? make('history-type', { resourceType }) : undefined;
    if (second === '$export') {
      return resourceType === 'Patient' && (method === 'GET' || method === 'POST')
        ? make('export-patient', { resourceType })
        : undefined;
    }
    const byMethod: Record<string, RouteAction> = {
      GET: 'read',
      PUT: 'update',
      PATCH: 'patch',
      DELETE: 'delete',
    };
    const action = byMethod[method];
    return action ? make(action, { resourceType, id: second }) : undefined;
  }
  if (third === '$export' && fourth === undefined) {
    return resourceType === 'Group' && (method === 'GET' || method === 'POST')
      ? make('export-group', { resourceType, id: second })
      : undefined;
  }
  if (third === '_history' && method === 'GET') {
    return fourth === undefined
      ? make('history', { resourceType, id: second })
      : make('vread', { resourceType, id: second, versionId: fourth });
  }
  return undefined;
}

function splitPath(path: string): string[] {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

/**
 * Maps a request to its route, or `undefined` when the stand-in serves nothing there (404).
 * `path` is the URL path without the query string.
 */
export function routeRequest(method: string, path: string, orgbac: boolean): Route | undefined {
  const upper = method.toUpperCase();
  const system = systemRoute(upper, path);
  if (system) return system;

  const segments = splitPath(path);
  if (segments[0] === 'fhir') return resourceRoute(upper, segments.slice(1), 'fhir');
  // OrgBAC routes (section 3): /Organization/<org-id>/fhir/...
  if (orgbac && segments[0] === 'Organization' && segments[1] !== undefined && segments[2] === 'fhir') {
    const organizationId = segments[1];
    // SMART discovery at the organization's FHIR base, where a client following SMART App Launch 2.x
    // looks (`[base]/.well-known/smart-configuration`); the same document as at the root.
    // README "unverified": no public Aidbox page says what is served there.
    if (
      upper === 'GET' &&
      segments.length === 5 &&
      segments[3] === '.well-known' &&
      segments[4] === 'smart-configuration'
    )
      return {
        action: 'smart-configuration',
        api: 'system',
        operationId: 'orgbac-smart-configuration',
        params: {},
        organizationId,
      };
    const route = resourceRoute(upper, segments.slice(3), 'orgbac-fhir');
    if (!route) return undefined;
    return { ...route, organizationId, params: { ...route.params, 'organization/id': organizationId } };
  }
  return resourceRoute(upper, segments, 'aidbox');
}

/** Query parameters in Aidbox's shape: one value → string, repeated → array of strings. */
export function parseQueryParams(query: string | undefined): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

const WRITE_METHODS = new Set(['post', 'put', 'patch']);

/**
 * The request object of section 2.1: `request-method` (lower case), `scheme`, `uri` (no query),
 * `query-string`, `params` (query parameters merged with route parameters, route winning),
 * `operation.id`, `client` (Aidbox internal format), `jwt`, and `resource`/`body` for writes.
 */
export function buildPolicyRequest(input: {
  method: string;
  path: string;
  query?: string;
  client?: Record<string, unknown>;
  jwt?: Record<string, unknown>;
  body?: unknown;
  orgbac: boolean;
}): PolicyRequest {
  const method = input.method.toLowerCase();
  const query = input.query?.replace(/^\?/, '') ?? '';
  const route = routeRequest(input.method, input.path, input.orgbac);
  const request: PolicyRequest = {
    'request-method': method,
    scheme: 'http',
    uri: input.path,
    'query-string': query === '' ? undefined : query,
    params: { ...parseQueryParams(query), ...(route?.params ?? {}) },
    // An unrouted request never reaches the engine in the server (404 first); the id is for callers
    // that evaluate arbitrary paths.
    operation: { id: route?.operationId ?? 'unknown' },
  };
  if (input.client !== undefined) request.client = input.client;
  if (input.jwt !== undefined) request.jwt = input.jwt;
  if (WRITE_METHODS.has(method) && input.body !== undefined) {
    request.resource = input.body;
    request.body = input.body;
  }
  return request;
}
