import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp } from '../api/compose.js';
import { identityFromConfig } from '../api/auth/from-config.js';
import { aidboxOrganizationDirectory } from '../api/organizations.js';
import { testConfig } from '../test-support/api-harness.js';
import { createJwksFetcher } from '../credentials/jwks-fetch.js';
import { createLogger } from '../platform/logger.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { startKeyServer, type TestKeyServer } from '../test-support/key-server.js';
import { FAST_RETRY, tokenWithSecret } from '../test-support/services.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';

/**
 * The portal and the review UI in a real browser (Debian's Chromium driven by playwright-core),
 * served over HTTP on 127.0.0.1 by the real app on the real back end: the run's Temporal dev
 * server with a worker, PostgreSQL, the two Aidbox stand-ins and a developer's key server.
 * Every step asserts what a person sees. The core flow runs with JavaScript on and again with it
 * off; a cross-origin form post without the CSRF token is refused.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-results/screenshots');
/** A JWKS that fails validation: a symmetric key (a shared secret has no place in a public JWKS). */
const BAD_JWKS = { keys: [{ kty: 'oct', kid: 'shared', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }] };

describe('the portal and the review UI in a browser', () => {
  let system: TestSystem;
  let keys: TestKeyServer;
  let server: ServerType;
  let attacker: Server;
  let base: string;
  let attackerBase: string;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    system = await startTestSystem();
    keys = await startKeyServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'ui-test-'));
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: system.worker.taskQueue,
      TEMPORAL_CALL_TIMEOUT_MS: '15000',
      SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
      PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
      PRODUCTION_ORGBAC: 'true',
      // The development sign-in, exactly as `npm start` wires it: a key in DATA_DIR, trusted by the API.
      AUTH_DEV_ISSUER: 'true',
      AUTH_ISSUER: '',
      DATA_DIR: dataDir,
      TEMPORAL_UI_URL: 'http://127.0.0.1:9/temporal-ui',
    });
    const { verifier } = await identityFromConfig(config);
    const app = composeApp({
      config,
      db: system.db,
      temporal: system.client,
      log: createLogger('ui-test', 'silent'),
      verifier,
      secrets: system.secretStore,
      organizations: aidboxOrganizationDirectory(system.aidbox.production),
      jwksFetcher: createJwksFetcher({ mode: 'development', resolver: localhostOnlyResolver }),
      workflowRetry: FAST_RETRY,
    });
    base = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      );
    });
    attacker = await startAttacker(() => base);
    attackerBase = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Playwright gives every launch a fresh, temporary user-data-dir.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
    await keys?.close();
    await system?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function person(js: boolean): Promise<BrowserContext> {
    const context = await browser.newContext({ javaScriptEnabled: js, baseURL: base });
    if (js) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    return context;
  }

  async function signIn(page: Page, sub: string, roles: Array<'developer' | 'admin'>, goTo: string) {
    await page.goto(goTo);
    // Signed out: the page sends you to sign in, and back afterwards.
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.locator('h1').innerText()).toBe('Sign in');
    await page.locator('#dev-sub').fill(sub);
    await page.locator('#dev-role-developer').setChecked(roles.includes('developer'));
    await page.locator('#dev-role-admin').setChecked(roles.includes('admin'));
    await Promise.all([
      page.waitForURL(`${base}${goTo}`),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    expect(await page.locator('.who').innerText()).toContain(`Signed in as ${sub}`);
  }

  const shot = (page: Page, name: string, mask: string[] = []) =>
    page.screenshot({
      path: path.join(SCREENSHOTS, `${name}.png`),
      fullPage: true,
      mask: mask.map((m) => page.locator(m)),
    });

  const mainText = (page: Page) => page.locator('main').innerText();

  /** Reloads until the page shows `text` (the workflow works in the background). */
  async function reloadUntil(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await mainText(page);
      if (typeof text === 'string' ? body.includes(text) : text.test(body)) return body;
      if (Date.now() > deadline)
        throw new Error(`the page never showed ${String(text)}; it shows:\n${body.slice(0, 1500)}`);
      await page.waitForTimeout(300);
      await page.reload();
    }
  }

  /** Clicks a button that posts a form (or follows a redirect) and waits for the next page. */
  async function clickAndWait(page: Page, name: string | RegExp) {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name }).first().click(),
    ]);
  }

  /** Submit (or resubmit) asks once, with an optional note to the reviewer. */
  async function submitForReview(page: Page, label: string, note?: string) {
    await page.getByRole('link', { name: label }).click();
    expect(await page.locator('h1').innerText()).toContain('for review');
    if (note) await page.locator('#note').fill(note);
    await clickAndWait(page, label);
  }

  async function fillRule(page: Page, index: number, resource: string, operations: string[], js: boolean) {
    if (!(await page.locator(`#rule-${index}-resource`).count())) {
      // "Add a row": in place with JavaScript, a round trip to the server without.
      if (js) await page.getByRole('button', { name: 'Add a row' }).click();
      else await clickAndWait(page, 'Add a row');
    }
    await page.locator(`#rule-${index}-resource`).fill(resource);
    for (const op of operations) await page.locator(`#rule-${index}-${op}`).check();
  }

  async function scopePreview(page: Page, js: boolean): Promise<string> {
    if (!js) await clickAndWait(page, 'Preview scopes');
    return page.locator('#scope-preview').innerText();
  }

  /** The whole spec flow; `js` false repeats it with JavaScript disabled in both browsers. */
  async function coreFlow(js: boolean) {
    const tag = randomBytes(3).toString('hex');
    const mode = js ? 'js' : 'nojs';
    const developerName = `dev-${mode}-${tag}`;
    const adminName = `admin-${mode}-${tag}`;
    const jwksName = `Nightly export ${tag}`;
    const secretName = `Claims sync ${tag}`;
    const shots = js; // screenshots from the JavaScript run

    const devContext = await person(js);
    const dev = await devContext.newPage();
    keys.publish(BAD_JWKS);

    // ---- the developer signs in and sees an empty dashboard ----
    await signIn(dev, developerName, ['developer'], '/portal');
    expect(await dev.locator('h1').innerText()).toBe('Backend Services');
    expect(await mainText(dev)).toContain('You have no backend services yet.');
    const session = (await devContext.cookies()).find((c) => c.name === 'bsr_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    if (shots) await shot(dev, '01-dashboard-empty');

    // ---- register a JWKS service (a field error first) ----
    await dev.getByRole('link', { name: 'Register New' }).click();
    expect(await dev.locator('h1').innerText()).toBe('Register a Backend Service');
    await dev.locator('#name').fill(jwksName);
    // User text is shown as text, never run as markup (XSS).
    await dev.locator('#description').fill(`Nightly export <script>window.xss = 1</script><b>bold</b>`);
    await dev.locator('#contactEmail').fill('not-an-email');
    await dev.locator('#auth-jwks').check();
    await dev.locator('#jwksUri').fill(keys.jwksUri);
    await dev.locator('#version-v2').check();
    await fillRule(dev, 0, 'Patient', ['read', 'search'], js);
    await fillRule(dev, 1, 'Observation', ['read', 'search'], js);
    const preview = await scopePreview(dev, js);
    expect(preview).toContain('system/Observation.rs');
    expect(preview).toContain('system/Patient.rs');
    await dev.locator('#organizationId').selectOption('org-payer-a');
    await clickAndWait(dev, 'Create');
    // Refused: the error sits next to its field, and what was typed is kept.
    expect(await dev.locator('#contactEmail-error').innerText()).toContain(
      'Enter the contact e-mail as an address',
    );
    expect(await dev.locator('#name').inputValue()).toBe(jwksName);
    expect(await dev.locator('#rule-1-resource').inputValue()).toBe('Observation');
    if (shots) await shot(dev, '02-register-field-error');
    await dev.locator('#contactEmail').fill('ops@acme.example');
    await clickAndWait(dev, 'Create');
    expect(await dev.locator('h1').innerText()).toContain(jwksName);
    expect(await dev.locator('h1 .badge').innerText()).toBe('Draft');
    expect(await mainText(dev)).toContain('The service is registered as a Draft');
    const jwksId = new URL(dev.url()).pathname.split('/').pop()!;
    expect(await mainText(dev)).toContain('<script>window.xss = 1</script><b>bold</b>');
    expect(await dev.evaluate(() => (window as unknown as { xss?: number }).xss)).toBeUndefined();
    expect(await dev.locator('main b').count()).toBe(0);

    // ---- the JWKS fails: Submit is disabled with the reason ----
    await reloadUntil(dev, /Credentials\s+Invalid/);
    const report = await dev.locator('.jwks-report').innerText();
    expect(report).toMatch(/Invalid/);
    expect(await dev.getByRole('button', { name: 'Submit for Review' }).isDisabled()).toBe(true);
    expect(await dev.locator('#submit-why').innerText()).toContain('the JWKS does not pass validation');
    if (shots) await shot(dev, '03-draft-jwks-invalid');

    // ---- the developer fixes the document at the JWKS URI and checks again ----
    keys.restore();
    await clickAndWait(dev, 'Check the JWKS again');
    expect(await mainText(dev)).toContain('The JWKS was fetched and checked again.');
    await reloadUntil(dev, /Credentials\s+Valid/);
    expect(await dev.getByRole('link', { name: 'Submit for Review' }).isVisible()).toBe(true);
    await reloadUntil(dev, 'Token URL'); // the sandbox client follows valid credentials

    // The assertion checker, with an assertion the developer's key signed for the sandbox.
    const sandboxTokenUrl = `${system.standins.sandbox.url}/auth/token`;
    await dev.locator('#check-assertion').fill(await keys.assertion(jwksId, sandboxTokenUrl));
    await dev.locator('#check-env').selectOption('sandbox');
    await clickAndWait(dev, 'Check assertion');
    expect(await dev.locator('#check-result').innerText()).toContain('Accepted');
    if (shots) await shot(dev, '04-draft-valid-assertion-check');

    await submitForReview(dev, 'Submit for Review', `Signed with key-1 (${tag})`);
    expect(await mainText(dev)).toContain('Submitted for review.');
    expect(await dev.locator('h1 .badge').innerText()).toBe('Under Review');

    // ---- register a client-secret service; the secret is shown once ----
    await dev.goto('/portal/services/new');
    await dev.locator('#name').fill(secretName);
    await dev.locator('#contactEmail').fill('claims@acme.example');
    await dev.locator('#auth-secret').check();
    expect(await dev.locator('#secret-note').innerText()).toContain(
      'not SMART Backend Services / (g)(10) compliant',
    );
    await dev.locator('#version-v1').check();
    await fillRule(dev, 0, '*', ['read', 'search'], js);
    expect(await scopePreview(dev, js)).toContain('system/*.read');
    await dev.locator('#organizationId').selectOption('org-payer-a');
    const [created] = await Promise.all([
      dev.waitForResponse(
        (r) => r.url() === `${base}/portal/services/new` && r.request().method() === 'POST',
      ),
      clickAndWait(dev, 'Create'),
    ]);
    expect(created.headers()['cache-control']).toBe('no-store');
    expect(await dev.locator('h1').innerText()).toContain('Service registered');
    expect(await mainText(dev)).toContain('It will not be shown again.');
    const shown = await dev.locator('#client-secret').inputValue();
    expect(shown.length).toBeGreaterThanOrEqual(32);
    let secret = shown;
    if (js) {
      await dev.getByRole('button', { name: 'Copy secret' }).click();
      await dev.getByText('Copied to the clipboard.').waitFor();
      secret = await dev.evaluate(() => navigator.clipboard.readText());
      expect(secret).toBe(shown);
    } else {
      // Without JavaScript there is no copy button; the secret is there to select and copy.
      expect(await dev.getByRole('button', { name: 'Copy secret' }).isVisible()).toBe(false);
    }
    if (shots) await shot(dev, '05-secret-shown-once', ['#client-secret']);
    await dev.getByRole('link', { name: /continue to the service/ }).click();
    const secretId = new URL(dev.url()).pathname.split('/').pop()!;
    expect(await mainText(dev)).not.toContain(secret);

    // The copied secret gets a sandbox token as soon as the sandbox client exists.
    await reloadUntil(dev, 'Token URL');
    let tokenStatus = 0;
    for (let i = 0; i < 50 && tokenStatus !== 200; i++) {
      tokenStatus = (await tokenWithSecret(system.standins.sandbox.url, secretId, secret, 'system/*.read'))
        .status;
      if (tokenStatus !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(tokenStatus).toBe(200);
    if (shots) await shot(dev, '06-detail-sandbox-constants');
    await submitForReview(dev, 'Submit for Review');
    expect(await dev.locator('h1 .badge').innerText()).toBe('Under Review');

    // ---- the administrator: the queue, oldest first, with waiting time ----
    const adminContext = await person(js);
    const admin = await adminContext.newPage();
    await signIn(admin, adminName, ['admin'], '/admin');
    expect(await admin.locator('h1').innerText()).toBe('Review queue');
    const queue = await admin.locator('table.queue').innerText();
    expect(queue.indexOf(jwksName)).toBeGreaterThanOrEqual(0);
    expect(queue.indexOf(jwksName)).toBeLessThan(queue.indexOf(secretName));
    const jwksRow = admin.locator('tr', { hasText: jwksName });
    expect(await jwksRow.innerText()).toMatch(/\d+ (s|min)/);
    expect(await jwksRow.getByRole('link', { name: 'Workflow in Temporal' }).getAttribute('href')).toBe(
      `http://127.0.0.1:9/temporal-ui/namespaces/default/workflows/backend-service%2F${jwksId}`,
    );
    if (shots) await shot(admin, '07-review-queue');

    // ---- review the secret service and reject it with a reason; keep a second tab open on it ----
    await admin.getByRole('link', { name: secretName }).click();
    expect(await admin.locator('h1').innerText()).toContain(`Review: ${secretName}`);
    const review = await mainText(admin);
    expect(review).toContain(developerName);
    expect(review).toContain('system/*.read');
    expect(review).toContain('applies to every FHIR resource type');
    expect(review).toContain('Not SMART Backend Services / (g)(10) compliant');
    expect(await admin.locator('#policy-hash').innerText()).toMatch(/^[0-9a-f]{64}$/);
    const staleTab = await adminContext.newPage();
    await staleTab.goto(admin.url());
    // The reason is required (the browser checks it, with or without JavaScript; so does the server).
    expect(await admin.locator('#reject-reason').getAttribute('required')).not.toBeNull();
    const reason = `Use explicit resource types, not * (${tag})`;
    await admin.locator('#reject-reason').fill(reason);
    await clickAndWait(admin, 'Reject');
    expect(await mainText(admin)).toContain('Rejected. The developer sees your reason');
    expect(await mainText(admin)).not.toContain(secretName);

    // ---- approve the JWKS service: the exact policies and their hash on screen ----
    await admin.getByRole('link', { name: jwksName }).click();
    const jwksReview = await mainText(admin);
    expect(jwksReview).toContain('Valid:');
    // Bound to org-payer-a, which has a child: the reviewer is told the binding reaches it too.
    expect(jwksReview).toContain(
      'Risk (high): Organization/org-payer-a has nested Organizations: org-payer-a-east.',
    );
    expect(jwksReview).toContain(
      'The binding includes the Organizations nested under Organization/org-payer-a: org-payer-a-east.',
    );
    expect(jwksReview).toContain('Production access policies');
    expect(jwksReview).toContain(`${jwksId}--`);
    if (shots) await shot(admin, '08-review-page');
    await clickAndWait(admin, /^Approve$/);
    // No reload: the page follows the approval by itself (a script, or a meta refresh without one).
    await admin.locator('h1 .badge', { hasText: 'Active' }).waitFor({ timeout: 30_000 });

    // ---- the developer sees the reason, edits and resubmits ----
    await dev.goto('/portal');
    const dashboard = await dev.locator('table.services').innerText();
    expect(dashboard.indexOf(secretName)).toBeLessThan(dashboard.indexOf(jwksName)); // newest first
    expect(await dev.locator('tr', { hasText: secretName }).locator('.badge').innerText()).toBe('Rejected');
    expect(await dev.locator('tr', { hasText: jwksName }).locator('.badge').innerText()).toBe('Active');
    if (shots) await shot(dev, '09-dashboard-badges');
    await dev.getByRole('link', { name: secretName }).click();
    expect(await dev.locator('.reason').first().innerText()).toBe(reason);
    if (shots) await shot(dev, '10-rejected-with-reason');
    await dev.getByRole('link', { name: 'Edit', exact: true }).click();
    expect(await dev.locator('h1').innerText()).toContain(`Edit ${secretName}`);
    await dev.locator('#rule-0-resource').fill('Patient');
    await dev.locator('#rule-0-update').check(); // v1 cannot say read+search+update: refused next to the row
    await clickAndWait(dev, 'Save changes');
    expect(await dev.locator('#rule-0-operations-error').innerText()).toContain('Choose scope version v2');
    await dev.locator('#rule-0-update').uncheck();
    await clickAndWait(dev, 'Save changes');
    expect(await mainText(dev)).toContain('Your changes are saved.');
    expect(await mainText(dev)).toContain('system/Patient.read');
    await submitForReview(dev, 'Resubmit for Review');
    expect(await dev.locator('h1 .badge').innerText()).toBe('Under Review');

    // ---- the stale tab's Approve is refused clearly; the fresh page shows what changed ----
    await clickAndWait(staleTab, /^Approve$/);
    expect(await staleTab.locator('.error-box[role=alert]').first().innerText()).toContain(
      'is no longer what is under review',
    );
    const resubmitted = await mainText(staleTab);
    expect(resubmitted).toContain('Resubmission: changes since the previous review');
    expect(resubmitted).toContain(reason);
    expect(resubmitted).toContain('system/Patient.read');
    if (shots) await shot(staleTab, '11-stale-approve-refused');
    await clickAndWait(staleTab, /^Approve$/);
    await staleTab.locator('h1 .badge', { hasText: 'Active' }).waitFor({ timeout: 30_000 });

    // ---- the developer sees production constants once live ----
    await reloadUntil(dev, '/Organization/org-payer-a/fhir');
    expect(await dev.locator('h1 .badge').innerText()).toBe('Active');
    expect(await dev.locator('#env-production').locator('..').innerText()).toContain(
      '/Organization/org-payer-a/fhir',
    );

    // ---- the administrator deactivates the JWKS service: reason and "final" required ----
    await admin.goto('/admin/active');
    expect(await admin.locator('h1').innerText()).toBe('Active services');
    await admin.getByRole('link', { name: `Deactivate ${jwksName}` }).click();
    expect(await mainText(admin)).toContain('Deactivation is final.');
    if (shots) await shot(admin, '12-deactivate-confirm');
    expect(await admin.locator('#deactivate-reason').getAttribute('required')).not.toBeNull();
    expect(await admin.locator('#deactivate-confirm').getAttribute('required')).not.toBeNull();
    await admin.locator('#deactivate-reason').fill('Contract ended');
    await admin.locator('#deactivate-confirm').check();
    await clickAndWait(admin, /^Deactivate$/);
    expect(await mainText(admin)).toContain('Deactivated. Production no longer accepts this client.');
    expect(await mainText(admin)).not.toContain(`Deactivate ${jwksName}`);
    if (shots) await shot(admin, '13-active-list');

    await dev.goto(`/portal/services/${jwksId}`);
    expect(await dev.locator('h1 .badge').innerText()).toBe('Rejected');
    expect(await mainText(dev)).toContain('Deactivated by');
    expect(await mainText(dev)).toContain('Contract ended');

    // ---- CSRF: a cross-origin form post without the token is refused, and nothing happens ----
    await dev.goto(`${attackerBase}/`);
    const [refused] = await Promise.all([
      dev.waitForResponse((r) => r.url() === `${base}/portal/services/new`),
      dev.getByRole('button', { name: 'Claim your prize' }).click(),
    ]);
    expect(refused.status()).toBe(403);
    await dev.waitForLoadState('load');
    expect(await dev.locator('h1').innerText()).toBe('Request refused');
    await dev.goto('/portal');
    expect(await mainText(dev)).not.toContain('Forged service');

    // ---- sign out ----
    await clickAndWait(dev, 'Sign out');
    expect(await mainText(dev)).toContain('You are signed out.');
    await dev.goto('/portal');
    expect(new URL(dev.url()).pathname).toBe('/login');

    await devContext.close();
    await adminContext.close();
  }

  it('runs the whole flow with JavaScript: register, copy the secret, fix the JWKS, review, resubmit, deactivate', async () => {
    await coreFlow(true);
  }, 300_000);

  it('runs the core flow again with JavaScript disabled', async () => {
    await coreFlow(false);
  }, 300_000);

  it('refuses a POST whose CSRF token is missing or wrong, even from the same origin', async () => {
    const context = await person(true);
    const page = await context.newPage();
    await page.goto('/login');
    const status = await page.evaluate(async () => {
      const body = new URLSearchParams({ sub: 'mallory', 'role-admin': 'on', _csrf: 'guessed' });
      return (await fetch('/login/dev', { method: 'POST', body })).status;
    });
    expect(status).toBe(403);
    await context.close();
  });
});

/** Another origin (another port on loopback) whose page posts a form to the portal without a CSRF token. */
async function startAttacker(target: () => string): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Win</title>
      <form method="post" action="${target()}/portal/services/new">
        <input type="hidden" name="name" value="Forged service" />
        <input type="hidden" name="contactEmail" value="evil@example.invalid" />
        <input type="hidden" name="authType" value="client_secret" />
        <input type="hidden" name="version" value="v2" />
        <input type="hidden" name="rule-0-resource" value="*" />
        <input type="hidden" name="rule-0-delete" value="on" />
        <input type="hidden" name="intent" value="save" />
        <button type="submit">Claim your prize</button>
      </form>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
