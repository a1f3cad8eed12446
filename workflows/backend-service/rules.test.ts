import { describe, expect, it } from 'vitest';
import {
  refuseApprove,
  refuseDeactivate,
  refuseEdit,
  refuseReject,
  refuseRotateSecret,
  refuseSubmit,
} from './rules.js';
import type { Registration, ServiceState, SubmissionSnapshot } from './service-state.js';

const owner = { sub: 'alice', roles: ['developer'] };
const otherDeveloper = { sub: 'mallory', roles: ['developer'] };
const admin = { sub: 'root-admin', roles: ['admin'] };
const adminOwner = { sub: 'alice', roles: ['developer', 'admin'] };

const registration: Registration = {
  name: 'Acme export',
  description: 'bulk export',
  contactEmail: 'ops@acme.example',
  authMethod: { type: 'client_secret' },
  scopes: {
    version: 'v2',
    rules: [{ resource: 'Patient', operations: ['read'] }],
    strings: ['system/Patient.r'],
  },
  organizationId: null,
};

const submission: SubmissionSnapshot = {
  revision: 2,
  submittedAt: '2026-11-29T10:00:00.000Z',
  submittedBy: 'alice',
  registration,
  productionPolicies: { policies: [], policyHash: 'a'.repeat(64), notes: [] },
};

function service(overrides: Partial<ServiceState> = {}): ServiceState {
  return {
    serviceId: 'bs-test',
    ownerId: 'alice',
    registration,
    status: 'draft',
    revision: 2,
    rejection: null,
    approval: null,
    credentials: { state: 'valid', checkedAt: null, secret: null, jwksReport: null, acceptedThumbprints: {} },
    sandbox: { revision: 2, state: 'ready', lastError: null },
    productionProvisioned: false,
    cleanup: null,
    submission: null,
    previousSubmission: null,
    createdAt: '2026-11-29T09:00:00.000Z',
    updatedAt: '2026-11-29T09:00:00.000Z',
    projectionVersion: 3,
    ...overrides,
  };
}

const underReview = () => service({ status: 'under_review', submission });
const declined = () =>
  service({
    status: 'rejected',
    rejection: { kind: 'declined', reason: 'no', by: 'root-admin', at: '' },
    submission,
  });
const deactivated = () =>
  service({
    status: 'rejected',
    rejection: { kind: 'deactivated', reason: 'gone', by: 'root-admin', at: '' },
  });
const provisioning = () =>
  service({
    status: 'under_review',
    submission,
    approval: {
      state: 'provisioning',
      revision: 2,
      policyHash: 'a'.repeat(64),
      by: 'x',
      at: '',
      attempts: 0,
      lastError: null,
    },
  });

describe('which message the service accepts in which state', () => {
  it('edit: the owner, in draft or after a decline, at the current revision', () => {
    const edit = (revision = 2) => ({ actor: owner, expectedRevision: revision, registration });
    expect(refuseEdit(service(), edit())).toBeUndefined();
    expect(refuseEdit(declined(), edit())).toBeUndefined();
    expect(refuseEdit(service(), { ...edit(), actor: otherDeveloper })?.type).toBe('Forbidden');
    expect(refuseEdit(underReview(), edit())).toMatchObject({
      type: 'InvalidTransition',
      currentStatus: 'under_review',
    });
    // A live service is edited through a pending change, not while its change is under review.
    expect(refuseEdit(service({ status: 'active' }), edit())).toBeUndefined();
    const changeUnderReview = service({
      status: 'active',
      pendingChange: {
        revision: 3,
        state: 'under_review',
        registration,
        credentials: { state: 'valid', checkedAt: null, jwksReport: null, acceptedThumbprints: {} },
        submission: null,
        rejection: null,
      },
    });
    expect(refuseEdit(changeUnderReview, edit(3))?.message).toContain('withdraw the change');
    expect(
      refuseEdit(
        { ...changeUnderReview, pendingChange: { ...changeUnderReview.pendingChange!, state: 'draft' } },
        edit(2),
      )?.type,
    ).toBe('RevisionMismatch');
    expect(refuseEdit(deactivated(), edit())?.message).toContain('deactivated');
    expect(refuseEdit(service(), edit(1))?.type).toBe('RevisionMismatch');
  });

  it('edit: the authentication method never changes; the organization only in draft', () => {
    const jwks = {
      ...registration,
      authMethod: { type: 'jwks_uri' as const, jwksUri: 'https://x.example/jwks' },
    };
    expect(refuseEdit(service(), { actor: owner, expectedRevision: 2, registration: jwks })).toMatchObject({
      type: 'InvalidInput',
      field: '/authMethod/type',
    });
    const moved = { ...registration, organizationId: 'org-b' };
    expect(refuseEdit(service(), { actor: owner, expectedRevision: 2, registration: moved })).toBeUndefined();
    expect(refuseEdit(declined(), { actor: owner, expectedRevision: 2, registration: moved })).toMatchObject({
      type: 'InvalidInput',
      field: '/organizationId',
    });
  });

  it('submit: the owner, from draft or after a decline; not twice', () => {
    expect(refuseSubmit(service(), { actor: owner })).toBeUndefined();
    expect(refuseSubmit(declined(), { actor: owner })).toBeUndefined();
    expect(refuseSubmit(underReview(), { actor: owner })?.type).toBe('InvalidTransition');
    expect(refuseSubmit(service(), { actor: otherDeveloper })?.type).toBe('Forbidden');
  });

  it('approve: an administrator who is not the owner, naming what is under review', () => {
    const approve = { actor: admin, revision: 2, policyHash: 'a'.repeat(64) };
    expect(refuseApprove(underReview(), approve)).toBeUndefined();
    expect(refuseApprove(underReview(), { ...approve, actor: adminOwner })?.type).toBe('SelfApproval');
    expect(refuseApprove(underReview(), { ...approve, actor: otherDeveloper })?.type).toBe('Forbidden');
    expect(refuseApprove(service(), approve)?.type).toBe('InvalidTransition');
    expect(refuseApprove(provisioning(), approve)?.type).toBe('InvalidTransition');
    expect(refuseApprove(underReview(), { ...approve, revision: 1 })?.type).toBe('StaleReview');
    expect(refuseApprove(underReview(), { ...approve, policyHash: 'b'.repeat(64) })?.type).toBe(
      'StaleReview',
    );
    const failed = provisioning();
    failed.approval = { ...failed.approval!, state: 'failed' };
    expect(refuseApprove(failed, approve)).toBeUndefined();
  });

  it('reject and deactivate: administrators only, from under review (not while provisioning) and active', () => {
    expect(refuseReject(underReview(), { actor: admin, reason: 'r' })).toBeUndefined();
    expect(refuseReject(provisioning(), { actor: admin, reason: 'r' })?.type).toBe('InvalidTransition');
    expect(refuseReject(underReview(), { actor: owner, reason: 'r' })?.type).toBe('Forbidden');
    expect(refuseDeactivate(service({ status: 'active' }), { actor: admin, reason: 'r' })).toBeUndefined();
    expect(refuseDeactivate(underReview(), { actor: admin, reason: 'r' })?.type).toBe('InvalidTransition');
    expect(refuseDeactivate(deactivated(), { actor: admin, reason: 'r' })).toMatchObject({
      currentStatus: 'rejected',
    });
  });

  it('rotate secret: the owner of a secret service that is not deactivated nor being approved', () => {
    expect(refuseRotateSecret(service(), { actor: owner })).toBeUndefined();
    expect(refuseRotateSecret(service({ status: 'active' }), { actor: owner })).toBeUndefined();
    expect(refuseRotateSecret(provisioning(), { actor: owner })?.type).toBe('InvalidTransition');
    expect(refuseRotateSecret(deactivated(), { actor: owner })?.type).toBe('InvalidTransition');
    expect(refuseRotateSecret(service(), { actor: otherDeveloper })?.type).toBe('Forbidden');
    const jwks = service({
      registration: { ...registration, authMethod: { type: 'jwks_uri', jwksUri: 'https://x.example/jwks' } },
    });
    expect(refuseRotateSecret(jwks, { actor: owner })?.message).toContain('no secret');
  });
});
