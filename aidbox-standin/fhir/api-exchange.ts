import type { Route } from '../policy/request.js';

/** One resource-route action as the HTTP server and transaction bundle entries hand it over. */

export interface ApiRequest {
  route: Route;
  url: URL;
  body: unknown;
  contentType?: string;
  headers: { ifMatch?: string; prefer?: string; accept?: string };
  /** Who is calling, as export jobs are bound to it: `Client/<id>`, `root` or `anonymous`. */
  caller: string;
  /** Authorizes one transaction entry as a request of its own, as the same caller (throws 401/403). */
  authorizeEntry: (method: string, path: string, query: string, body: unknown) => Promise<void> | void;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The base path of the API a route belongs to (docs/aidbox-contract.md §5, "Base URL conventions"):
 * the Aidbox-format API at the root, the FHIR API under `/fhir`, with OrgBAC per organization.
 */
export function apiBasePath(route: Pick<Route, 'api' | 'organizationId'>): string {
  return route.api === 'aidbox'
    ? ''
    : route.organizationId
      ? `/Organization/${route.organizationId}/fhir`
      : '/fhir';
}
