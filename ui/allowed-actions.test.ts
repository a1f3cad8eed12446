import { describe, expect, it } from 'vitest';
import { testConfig } from '../test-support/api-harness.js';
import type { ServiceAction, ServiceDetail } from './api-client.js';
import { createUi } from './app.js';

/**
 * The pages offer a command only when the API lists it in `allowedActions`, and say why when it
 * refuses an approval: the same service in the same state shows other buttons when the API says
 * otherwise. The API is a stub answering fixed JSON; the rule behind the lists is the API's own
 * (api/allowed-actions.test.ts).
 */
const T = '2026-05-01T10:00:00.000Z';
const ALL: ServiceAction[] = [
  'edit',
  'submit',
  'approve',
  'reject',
  'deactivate',
  'rotateSecret',
  'recheckCredentials',
  'withdraw',
  'delete',
  'revoke',
  'activateStagedSecret',
  'dropStagedSecret',
  'dropPendingChange',
];

function service(status: ServiceDetail['status'], allowed: ServiceAction[]): ServiceDetail {
  return {
    id: 'bs-fixture',
    clientId: 'bs-fixture',
    ownerId: 'olivia',
    organizationId: null,
    name: 'Fixture',
    description: '',
    contactEmail: 'ops@acme.example',
    authMethod: { type: 'client_secret' },
    scopes: {
      version: 'v2',
      rules: [{ resource: 'Patient', operations: ['read', 'search'] }],
      strings: ['system/Patient.rs'],
    },
    status,
    rejection: null,
    approval: null,
    revision: 1,
    credentials: {
      state: 'valid',
      checkedAt: T,
      secret: { version: 1, fingerprint: 'abcdef01', createdAt: T },
      stagedSecret: null,
      health: null,
    },
    environments: {
      sandbox: null,
      sandboxReason: 'The sandbox client is being provisioned.',
      production: null,
    },
    createdAt: T,
    updatedAt: T,
    pendingChange: null,
    deletedAt: null,
    projectionError: null,
    allowedActions: allowed,
    refusedActions: ALL.filter((a) => !allowed.includes(a)).map((action) => ({
      action,
      reason:
        action === 'approve' ? 'nobody may approve a service they own; ask another administrator' : 'not now',
    })),
  };
}

async function pages(detail: ServiceDetail, roles: string[]) {
  const json = (body: unknown) =>
    new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
  const ui = createUi({
    config: testConfig({ UI_SESSION_SECRET: 'x'.repeat(40) }),
    log: { error: () => undefined },
    api: (path) => {
      if (path === `/v1/backend-services/${detail.id}`) return json(detail);
      if (path.endsWith('/history')) return json({ items: [] });
      if (path.endsWith('/production-policies'))
        return json({
          serviceId: detail.id,
          revision: 1,
          submittedAt: T,
          policyHash: 'a'.repeat(64),
          policies: [],
          notes: [],
          scopes: detail.scopes.strings,
          riskFlags: [],
          previousSubmission: null,
        });
      if (path.startsWith('/v1/organizations')) return json({ items: [], nextCursor: null });
      return new Response(null, { status: 404 });
    },
    sessions: { create: async () => 'sid', isLive: async () => true, end: async () => undefined },
    developmentIssuer: async () => ({ sign: async (sub) => `token-of-${sub}` }),
  });
  const login = await ui.request('/login');
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
  const form = new URLSearchParams({
    _csrf: csrf,
    sub: 'olivia',
    ...Object.fromEntries(roles.map((r) => [`role-${r}`, 'on'])),
  });
  const signedIn = await ui.request('/login/dev', {
    method: 'POST',
    headers: { cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  const session = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = async (path: string) => (await ui.request(path, { headers: { cookie: session } })).text();
  return {
    portal: await get(`/portal/services/${detail.id}`),
    review: await get(`/admin/services/${detail.id}`),
  };
}

const buttons = (page: string) =>
  [...page.matchAll(/<(?:a class="button[^"]*"[^>]*|button type="submit"[^>]*)>\s*([^<]+?)\s*</g)].map(
    (m) => m[1],
  );

describe('the pages offer what the API allows', () => {
  it('a draft shows the buttons of the commands the API lists, and none it does not', async () => {
    const { portal } = await pages(service('draft', ['edit', 'submit', 'rotateSecret', 'delete']), [
      'developer',
    ]);
    expect(buttons(portal)).toEqual(
      expect.arrayContaining(['Submit for Review', 'Edit', 'Rotate secret', 'Delete']),
    );
    const none = await pages(service('draft', []), ['developer']);
    for (const label of ['Submit for Review', 'Edit', 'Rotate secret', 'Delete'])
      expect(none.portal).not.toContain(`>${label}<`);
    expect(none.portal).not.toContain('class="buttons actions"');
  });

  it('a refused approval is a disabled button with the API’s reason; an allowed one is enabled', async () => {
    const own = await pages(service('under_review', ['reject']), ['developer', 'admin']);
    expect(own.review).toMatch(
      /<p class="field-error" id="approve-why">\s*Nobody may approve a service they own; ask another administrator\.\s*<\/p>/,
    );
    expect(own.review).toMatch(
      /<button\s+type="submit"\s+class="primary"\s+disabled aria-describedby="approve-why"/,
    );
    const other = await pages(service('under_review', ['approve', 'reject']), ['admin']);
    expect(other.review).not.toContain('approve-why');
    expect(other.review).toContain('action="/admin/services/bs-fixture/approve"');
    // Neither allowed: no decision form at all.
    const neither = await pages(service('under_review', []), ['admin']);
    expect(neither.review).not.toContain('/approve"');
    expect(neither.review).not.toContain('/reject"');
  });
});
