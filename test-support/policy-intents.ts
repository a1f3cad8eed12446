/**
 * SMART interactions rendered as the HTTP requests a client would send, for the tests that ask the
 * Aidbox stand-in's policy engine whether a request is allowed and compare its answer with the
 * least-privilege oracle (scopes/least-privilege.oracle.ts). Paths follow FHIR's RESTful API
 * (https://hl7.org/fhir/R4/http.html) under the root or an organization's FHIR base.
 */
import type { Api, SmartInteraction } from '../scopes/least-privilege.oracle.js';

export interface RenderedRequest {
  method: string;
  path: string;
  query: string;
  body?: unknown;
}

/** The FHIR base of an API: the root one or an organization's (OrgBAC). */
export function fhirBase(api: Api): string {
  return api.kind === 'root' ? '/fhir' : `/Organization/${api.organizationId}/fhir`;
}

export function joinQuery(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('&');
}

/** One interaction on `resourceType` (instance `id` where it needs one), with `extra` query parameters. */
export function renderInteraction(
  interaction: SmartInteraction,
  resourceType: string,
  api: Api,
  id = '1',
  extra = '',
): RenderedRequest {
  const base = `${fhirBase(api)}/${resourceType}`;
  const shapes: Record<SmartInteraction, [string, string, string]> = {
    create: ['POST', base, extra],
    read: ['GET', `${base}/${id}`, extra],
    vread: ['GET', `${base}/${id}/_history/2`, extra],
    'history-instance': ['GET', `${base}/${id}/_history`, extra],
    update: ['PUT', `${base}/${id}`, extra],
    patch: ['PATCH', `${base}/${id}`, extra],
    delete: ['DELETE', `${base}/${id}`, extra],
    'search-type': ['GET', base, joinQuery('name=x', extra)],
    'search-type-post': ['POST', `${base}/_search`, extra],
    'history-type': ['GET', `${base}/_history`, extra],
    'conditional-update': ['PUT', base, joinQuery('identifier=x', extra)],
    'conditional-patch': ['PATCH', base, joinQuery('identifier=x', extra)],
    'conditional-delete': ['DELETE', base, joinQuery('identifier=x', extra)],
  };
  const [method, path, query] = shapes[interaction];
  const body = method === 'POST' || method === 'PUT' ? { resourceType } : undefined;
  return { method, path, query, ...(body ? { body } : {}) };
}
