import { describe, expect, it } from 'vitest';
import { newestRevision, submissionUnderReview } from '../workflows/backend-service/rules.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import { SERVICE_ACTIONS, type ServiceAction } from './services/allowed-actions.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import {
  buildApp,
  createIdentities,
  routeTestResources,
  seedService,
  serviceState,
  testSecretStore,
} from '../test-support/api-harness.js';

/**
 * The detail's allowedActions predict the API's own answer: for every state, caller and command,
 * the command is listed as allowed exactly when its route accepts it (2xx), and a refused one
 * carries a reason. The workflow port is the real validators (rules.ts) with no worker, so the
 * route's own gates (roles, the approver) are what this checks against them.
 */
const OWNER = 'olivia';
const ADMIN = 'ada';
const ADMIN_OWNER = 'amos';
const POLICY_HASH = 'a'.repeat(64);

type Setup =
  | 'draft-secret'
  | 'draft-jwks'
  | 'under-review'
  | 'active'
  | 'active-change'
  | 'change-under-review'
  | 'staged'
  | 'declined'
  | 'deactivated';
const SETUPS: Setup[] = [
  'draft-secret',
  'draft-jwks',
  'under-review',
  'active',
  'active-change',
  'change-under-review',
  'staged',
  'declined',
  'deactivated',
];

type Caller = 'owner' | 'ownerNoRole' | 'admin' | 'adminOwner';
const CALLERS: Caller[] = ['owner', 'ownerNoRole', 'admin', 'adminOwner'];

function stateFor(setup: Setup, ownerId: string): ServiceState {
  const base = serviceState({ ownerId });
  const submission = (revision: number) => ({
    revision,
    submittedAt: base.createdAt,
    submittedBy: ownerId,
    registration: base.registration,
    productionPolicies: { policies: [], policyHash: POLICY_HASH, notes: [] },
  });
  const live = { ...base, status: 'active' as const, submission: submission(1), productionProvisioned: true };
  const change = (state: 'draft' | 'under_review') => ({
    revision: 2,
    state,
    registration: { ...base.registration, name: 'Changed' },
    credentials: { state: 'valid' as const, checkedAt: null, jwksReport: null, acceptedThumbprints: {} },
    submission: state === 'under_review' ? submission(2) : null,
    rejection: null,
  });
  const rejection = (kind: 'declined' | 'deactivated') => ({
    kind,
    reason: 'Because',
    by: ADMIN,
    at: base.createdAt,
  });
  switch (setup) {
    case 'draft-secret':
      return base;
    case 'draft-jwks':
      return {
        ...base,
        registration: {
          ...base.registration,
          authMethod: { type: 'jwks_uri', jwksUri: 'https://acme.example/jwks.json' },
        },
        credentials: { ...base.credentials, state: 'invalid', secret: null },
      };
    case 'under-review':
      return { ...base, status: 'under_review', submission: submission(1) };
    case 'active':
      return live;
    case 'active-change':
      return { ...live, pendingChange: change('draft') };
    case 'change-under-review':
      return { ...live, pendingChange: change('under_review') };
    case 'staged':
      return {
        ...live,
        credentials: {
          ...base.credentials,
          stagedSecret: {
            version: 2,
            fingerprint: 'f'.repeat(16),
            createdAt: base.createdAt,
            activateAt: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      };
    case 'declined':
      return { ...base, status: 'rejected', submission: submission(1), rejection: rejection('declined') };
    case 'deactivated':
      return { ...live, status: 'rejected', rejection: rejection('deactivated') };
  }
}

/** Each command's request, as the pages send it. */
function request(
  action: ServiceAction,
  state: ServiceState,
): { method: string; path: string; body?: unknown; headers?: Record<string, string> } {
  const id = state.serviceId;
  const own = `/v1/backend-services/${id}`;
  const admin = `/v1/admin/backend-services/${id}`;
  const reviewed = submissionUnderReview(state);
  switch (action) {
    case 'edit':
      return {
        method: 'PATCH',
        path: own,
        body: { description: 'Edited' },
        headers: { 'If-Match': `"${newestRevision(state)}"`, 'Content-Type': 'application/merge-patch+json' },
      };
    case 'submit':
      return { method: 'POST', path: `${own}/submit` };
    case 'approve':
      return {
        method: 'POST',
        path: `${admin}/approve`,
        body: { revision: reviewed?.revision ?? 1, policyHash: POLICY_HASH },
      };
    case 'reject':
      return { method: 'POST', path: `${admin}/reject`, body: { reason: 'Scopes too broad' } };
    case 'deactivate':
      return { method: 'POST', path: `${admin}/deactivate`, body: { reason: 'Contract ended' } };
    case 'rotateSecret':
      return { method: 'POST', path: `${own}/rotate-secret` };
    case 'recheckCredentials':
      return { method: 'POST', path: `${own}/recheck-credentials` };
    case 'withdraw':
      return { method: 'POST', path: `${own}/withdraw` };
    case 'delete':
      return { method: 'DELETE', path: own };
    case 'revoke':
      return { method: 'POST', path: `${own}/revoke`, body: { reason: 'Key leaked' } };
    case 'activateStagedSecret':
      return { method: 'POST', path: `${own}/activate-staged-secret` };
    case 'dropStagedSecret':
      return { method: 'DELETE', path: `${own}/staged-secret` };
    case 'dropPendingChange':
      return { method: 'DELETE', path: `${own}/pending-change` };
  }
}

describe('allowedActions', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const secrets = testSecretStore(db);
  const app = buildApp(db, temporal, ids, {
    config,
    secrets,
    commands: rulesOnlyCommands(db, secrets),
    jwksFetcher: async (url) => ({
      ok: true,
      url,
      finalUrl: url,
      redirected: false,
      status: 200,
      contentType: 'application/json',
      cacheControl: 'max-age=300',
      bytes: 12,
      document: { keys: [] },
    }),
  });
  const headersFor: Record<Caller, () => Promise<Record<string, string>>> = {
    owner: () => ids.bearer(OWNER, ['developer']),
    ownerNoRole: () => ids.bearer(OWNER, []),
    admin: () => ids.bearer(ADMIN, ['admin']),
    adminOwner: () => ids.bearer(ADMIN_OWNER, ['developer', 'admin']),
  };

  const everAllowed = new Set<ServiceAction>();
  for (const setup of SETUPS) {
    it(`${setup}: listed as allowed exactly when the route accepts it`, async () => {
      const listed: Record<string, ServiceAction[]> = {};
      const accepted: Record<string, ServiceAction[]> = {};
      for (const caller of CALLERS) {
        const owner = caller === 'adminOwner' ? ADMIN_OWNER : OWNER;
        const headers = await headersFor[caller]();
        const shown = await seedService(db, stateFor(setup, owner));
        const detail = await app.request(`/v1/backend-services/${shown.serviceId}`, { headers });
        if (caller === 'ownerNoRole') {
          // The detail itself needs a role: nothing to list.
          expect(detail.status).toBe(403);
          listed[caller] = [];
        } else {
          expect(detail.status).toBe(200);
          const body = (await detail.json()) as {
            allowedActions: ServiceAction[];
            refusedActions: Array<{ action: ServiceAction; reason: string }>;
          };
          listed[caller] = body.allowedActions;
          // Every command once: allowed, or refused with a reason.
          expect([...body.allowedActions, ...body.refusedActions.map((r) => r.action)].sort()).toEqual(
            [...SERVICE_ACTIONS].sort(),
          );
          for (const refused of body.refusedActions) expect(refused.reason).not.toBe('');
        }
        accepted[caller] = [];
        for (const action of SERVICE_ACTIONS) {
          // Each command on a fresh service, so none sees another's effects.
          const state = await seedService(db, stateFor(setup, owner));
          const { method, path, body, headers: extra } = request(action, state);
          const response = await app.request(path, {
            method,
            headers: {
              ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
              ...extra,
              ...headers,
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          if (response.status < 300) accepted[caller].push(action);
          else expect([403, 409], `${caller} ${action}: ${await response.text()}`).toContain(response.status);
        }
      }
      expect(listed).toEqual(accepted);
      for (const action of Object.values(accepted).flat()) everAllowed.add(action);
    });
  }

  it('every command is accepted somewhere above, so the comparison is not vacuous', () => {
    expect([...everAllowed].sort()).toEqual([...SERVICE_ACTIONS].sort());
  });
});
