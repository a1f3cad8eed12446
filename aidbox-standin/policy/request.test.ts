import { describe, expect, it } from 'vitest';
import { buildPolicyRequest, routeRequest } from './request.js';

describe('routing and the policy request object (docs/aidbox-contract.md 2.1)', () => {
  it.each([
    ['GET', '/fhir/Patient/p1', false, 'FhirRead', { 'resource/type': 'Patient', 'resource/id': 'p1' }],
    ['GET', '/fhir/Patient', false, 'FhirSearch', { 'resource/type': 'Patient' }],
    ['POST', '/fhir/Patient/_search', false, 'FhirPostSearch', { 'resource/type': 'Patient' }],
    ['PUT', '/fhir/Client/bs-x', false, 'FhirUpdate', { 'resource/type': 'Client', 'resource/id': 'bs-x' }],
    ['PATCH', '/fhir/Client/bs-x', false, 'FhirPatch', { 'resource/type': 'Client', 'resource/id': 'bs-x' }],
    [
      'DELETE',
      '/fhir/AccessPolicy/p',
      false,
      'FhirDelete',
      { 'resource/type': 'AccessPolicy', 'resource/id': 'p' },
    ],
    ['POST', '/fhir', false, 'FhirTransaction', {}],
    [
      'GET',
      '/fhir/Patient/p1/_history/3',
      false,
      'FhirVread',
      { 'resource/type': 'Patient', 'resource/id': 'p1', '_history/id': '3' },
    ],
    ['GET', '/Patient/p1', false, 'Read', { 'resource/type': 'Patient', 'resource/id': 'p1' }],
    ['GET', '/fhir/$export', false, 'start-fhir-system-level-export', {}],
    [
      'GET',
      '/fhir/Patient/$export',
      false,
      'start-fhir-patient-level-export',
      { 'resource/type': 'Patient' },
    ],
    [
      'GET',
      '/fhir/Group/g1/$export',
      false,
      'start-fhir-group-level-export',
      { 'resource/type': 'Group', 'resource/id': 'g1' },
    ],
    ['GET', '/fhir/$export-status/j1', false, 'fhir-export-status', { id: 'j1' }],
    ['DELETE', '/fhir/$export-status/j1', false, 'fhir-delete-export', { id: 'j1' }],
    [
      'GET',
      '/Organization/org-a/fhir/Patient/p1',
      true,
      'orgbac-fhir-read',
      { 'organization/id': 'org-a', 'resource/type': 'Patient', 'resource/id': 'p1' },
    ],
    [
      'GET',
      '/Organization/org-a/fhir/Patient',
      true,
      'orgbac-fhir-search',
      { 'organization/id': 'org-a', 'resource/type': 'Patient' },
    ],
    [
      'POST',
      '/Organization/org-a/fhir/Patient',
      true,
      'orgbac-fhir-create',
      { 'organization/id': 'org-a', 'resource/type': 'Patient' },
    ],
    [
      'PUT',
      '/Organization/org-a/fhir/Patient/p1',
      true,
      'orgbac-fhir-update',
      { 'organization/id': 'org-a', 'resource/type': 'Patient', 'resource/id': 'p1' },
    ],
    [
      'PATCH',
      '/Organization/org-a/fhir/Patient/p1',
      true,
      'orgbac-fhir-patch',
      { 'organization/id': 'org-a', 'resource/type': 'Patient', 'resource/id': 'p1' },
    ],
    [
      'DELETE',
      '/Organization/org-a/fhir/Patient/p1',
      true,
      'orgbac-fhir-delete',
      { 'organization/id': 'org-a', 'resource/type': 'Patient', 'resource/id': 'p1' },
    ],
    ['POST', '/Organization/org-a/fhir', true, 'orgbac-fhir-bundle', { 'organization/id': 'org-a' }],
  ])('%s %s (orgbac %s) → %s', (method, path, orgbac, operationId, params) => {
    const route = routeRequest(method, path, orgbac);
    expect(route?.operationId).toBe(operationId);
    expect(route?.params).toEqual(params);
  });

  it('does not route OrgBAC paths when OrgBAC is off', () => {
    expect(routeRequest('GET', '/Organization/org-a/fhir/Patient', false)).toBeUndefined();
    expect(routeRequest('GET', '/Organization/org-a', false)?.operationId).toBe('Read');
  });

  it('builds the request object: lower-case method, uri without query, params merged (route wins), body for writes', () => {
    const request = buildPolicyRequest({
      method: 'PUT',
      path: '/fhir/Patient/p1',
      query: '_count=5&tag=a&tag=b&resource/type=Evil',
      client: { id: 'c1' },
      jwt: { sub: 'c1' },
      body: { resourceType: 'Patient' },
      orgbac: false,
    });
    expect(request).toMatchObject({
      'request-method': 'put',
      uri: '/fhir/Patient/p1',
      'query-string': '_count=5&tag=a&tag=b&resource/type=Evil',
      params: { _count: '5', tag: ['a', 'b'], 'resource/type': 'Patient', 'resource/id': 'p1' },
      operation: { id: 'FhirUpdate' },
      client: { id: 'c1' },
      jwt: { sub: 'c1' },
      resource: { resourceType: 'Patient' },
      body: { resourceType: 'Patient' },
    });
  });
});
