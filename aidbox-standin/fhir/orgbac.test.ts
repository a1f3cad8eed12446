/**
 * OrgBAC visibility (docs/aidbox-contract.md §3) on the production-shaped stand-in: sibling denied,
 * parent sees child, child does not see parent; writes through an organization's API are stamped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ORGANIZATIONS } from '../sample-data.js';
import { startStandin, type Standin } from '../server.js';
import { basic, call, tokenRequest } from '../../test-support/standin-http.js';
import { TENANT_EXTENSION } from './orgbac.js';

const ROOT = basic('root', 'root-secret-for-tests');
const { parent, child, sibling } = SAMPLE_ORGANIZATIONS;
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({ rootClientSecret: 'root-secret-for-tests', orgbac: true });
});
afterAll(() => standin?.stop());

const read = (org: string, path: string, auth = ROOT) =>
  call(standin.url, 'GET', `/Organization/${org}/fhir/${path}`, { auth });
const ids = (bundle: { entry: Array<{ resource: { id: string } }> }) =>
  bundle.entry.map((e) => e.resource.id).sort();

describe('OrgBAC visibility', () => {
  it('an organization sees its own data', async () => {
    expect((await read(sibling, 'Patient/b-pt-1')).status).toBe(200);
  });

  it('a sibling is denied (403)', async () => {
    const response = await read(sibling, 'Patient/a-pt-1');
    expect(response.status).toBe(403);
    expect(response.body.resourceType).toBe('OperationOutcome');
    expect(ids((await read(sibling, 'Patient')).body)).toEqual(['b-pt-1', 'b-pt-2', 'b-pt-3']);
  });

  it('the parent sees its child', async () => {
    expect((await read(parent, 'Patient/a-east-pt-1')).status).toBe(200);
    expect(ids((await read(parent, 'Observation')).body)).toEqual([
      'a-east-obs-1',
      'a-east-obs-2',
      'a-east-obs-3',
      'a-obs-1',
      'a-obs-2',
      'a-obs-3',
    ]);
  });

  it('the child does not see its parent', async () => {
    expect((await read(child, 'Patient/a-pt-1')).status).toBe(403);
    expect(ids((await read(child, 'Patient')).body)).toEqual(['a-east-pt-1', 'a-east-pt-2', 'a-east-pt-3']);
  });

  it('root-level data is not visible through an organization API', async () => {
    expect((await read(parent, 'Patient/pt-1')).status).toBe(403);
  });

  it('a write through an organization API is stamped with the tenant and visible upwards only', async () => {
    const created = await call(standin.url, 'PUT', `/Organization/${child}/fhir/Patient/new-east`, {
      auth: ROOT,
      body: { resourceType: 'Patient' },
    });
    expect(created.status).toBe(201);
    expect(created.body.meta.extension).toContainEqual({
      url: TENANT_EXTENSION,
      valueReference: { reference: `Organization/${child}` },
    });
    expect((await read(parent, 'Patient/new-east')).status).toBe(200);
    expect((await read(sibling, 'Patient/new-east')).status).toBe(403);
    // Overwriting another organization's resource through a sibling's API is refused too.
    expect(
      (
        await call(standin.url, 'PUT', `/Organization/${sibling}/fhir/Patient/new-east`, {
          auth: ROOT,
          body: { resourceType: 'Patient' },
        })
      ).status,
    ).toBe(403);
  });

  it('an unknown organization answers 404', async () => {
    expect((await read('org-nowhere', 'Patient')).status).toBe(404);
  });

  it('a client bound to an organization by its tenant extension reaches only that organization (section 3 policy)', async () => {
    await call(standin.url, 'PUT', '/fhir/Client/bs-org', {
      auth: ROOT,
      body: {
        active: true,
        grant_types: ['client_credentials'],
        secret: 'org-secret',
        scope: ['system/Patient.rs'],
        auth: { client_credentials: { token_format: 'jwt' } },
        meta: {
          extension: [{ url: TENANT_EXTENSION, valueReference: { reference: `Organization/${parent}` } }],
        },
      },
    });
    await call(standin.url, 'PUT', '/fhir/AccessPolicy/bs-org--read', {
      auth: ROOT,
      body: {
        engine: 'matcho',
        link: [{ reference: 'Client/bs-org' }],
        matcho: {
          client: {
            id: 'bs-org',
            meta: {
              extension: {
                $contains: { url: TENANT_EXTENSION, value: { Reference: { id: '.params.organization/id' } } },
              },
            },
          },
          params: { 'organization/id': 'present?', 'resource/type': 'Patient' },
          operation: { id: { $enum: ['orgbac-fhir-read', 'orgbac-fhir-search'] } },
        },
      },
    });
    const token = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials', scope: 'system/Patient.rs' },
      basic('bs-org', 'org-secret'),
    );
    const bearer = `Bearer ${token.body.access_token}`;
    expect((await read(parent, 'Patient', bearer)).status).toBe(200);
    expect((await read(sibling, 'Patient', bearer)).status).toBe(403);
    expect((await call(standin.url, 'GET', '/fhir/Patient', { auth: bearer })).status).toBe(403);
  });
});

describe('SMART discovery at the organization FHIR base', () => {
  it('[base]/.well-known/smart-configuration answers the root document under /Organization/<id>/fhir', async () => {
    const root = await call(standin.url, 'GET', '/.well-known/smart-configuration');
    const scoped = await read(sibling, '.well-known/smart-configuration', '');
    expect(scoped.status).toBe(200);
    expect(scoped.body).toEqual(root.body);
    expect(scoped.body.token_endpoint).toBe(`${standin.url}/auth/token`);
    // Negative control: only that path; another file under .well-known stays 404.
    expect((await read(sibling, '.well-known/openid-configuration', '')).status).toBe(404);
  });
});
