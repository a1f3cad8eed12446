import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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
import { FAST_RETRY } from '../test-support/services.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { LIBRARY_PHRASES } from './views/plain-language.js';

/**
 * The portal and the review UI as people use them (issue 20): every main page at a phone, a tablet
 * and a laptop width without sideways scrolling, no serious or critical accessibility violation
 * (axe-core, injected by the test), Enter in a text field saving the form, every error as a
 * sentence, the review decision on the first screen, notices that follow the service's state, and
 * a page waiting on production setup turning Active by itself, with and without JavaScript.
 * Same real back end as ui.test.ts: Temporal, PostgreSQL, the Aidbox stand-ins, Debian's Chromium.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-results/screenshots/widths');
const WIDTHS = [375, 768, 1280] as const;
const BAD_JWKS = { keys: [{ kty: 'oct', kid: 'shared', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }] };
/** Rule ids of docs/smart-rules.md: engineers' vocabulary, never shown to people. */
const RULE_ID = /\b(?:[ADUS]\d{1,2}|K-S\d)\b/;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('the portal and the review UI at three widths, by keyboard, and without JavaScript', () => {
  let system: TestSystem;
  let keys: TestKeyServer;
  let server: ServerType;
  let base: string;
  let browser: Browser;
  let dataDir: string;
  const tag = randomBytes(3).toString('hex');
  const developer = `dev-use-${tag}`;
  const reviewer = `admin-use-${tag}`;
  /** Pages to check at every width, filled in as the services come to exist. */
  const pages: Record<string, { path: string; as: 'dev' | 'admin' }> = {};
  let devContext: BrowserContext;
  let adminContext: BrowserContext;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    system = await startTestSystem();
    keys = await startKeyServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'ui-use-'));
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: system.worker.taskQueue,
      TEMPORAL_CALL_TIMEOUT_MS: '15000',
      SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
      PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
      PRODUCTION_ORGBAC: 'true',
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
      log: createLogger('ui-use-test', 'silent'),
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
    devContext = await browser.newContext({ baseURL: base });
    adminContext = await browser.newContext({ baseURL: base });
    await signIn(await devContext.newPage(), developer, ['developer']);
    await signIn(await adminContext.newPage(), reviewer, ['admin']);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await keys?.close();
    await system?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function signIn(page: Page, sub: string, roles: Array<'developer' | 'admin'>, js = true) {
    await page.goto('/login');
    await page.locator('#dev-sub').fill(sub);
    await page.locator('#dev-role-developer').setChecked(roles.includes('developer'));
    await page.locator('#dev-role-admin').setChecked(roles.includes('admin'));
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    expect(await page.locator('.who').innerText()).toContain(sub);
    if (js) await page.close();
  }

  async function clickAndWait(page: Page, name: string | RegExp) {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name }).first().click(),
    ]);
  }

  /** What a person reads as an error or finding on the page. */
  async function shownErrors(page: Page): Promise<string[]> {
    return page
      .locator(
        '.error-box, .field-error, .findings li, .jwks-report li, .preview-errors li, #check-result td',
      )
      .allInnerTexts();
  }

  function expectPlain(texts: string[]) {
    for (const text of texts) {
      for (const phrase of LIBRARY_PHRASES)
        expect(text, `"${text}" uses ${String(phrase)}`).not.toMatch(phrase);
      expect(text, `"${text}" shows a rule id`).not.toMatch(RULE_ID);
    }
  }

  async function waitForText(page: Page, text: string | RegExp, timeoutMs = 30_000) {
    await page.locator('main', { hasText: text }).waitFor({ timeout: timeoutMs });
  }

  async function register(
    page: Page,
    name: string,
    auth: 'jwks' | 'secret',
    rules: Array<[string, string[]]>,
  ): Promise<string> {
    await page.goto('/portal/services/new');
    await page.locator('#name').fill(name);
    await page.locator('#contactEmail').fill('ops@acme.example');
    if (auth === 'jwks') {
      await page.locator('#auth-jwks').check();
      await page.locator('#jwksUri').fill(keys.jwksUri);
    } else await page.locator('#auth-secret').check();
    for (const [i, [resource, ops]] of rules.entries()) {
      if (!(await page.locator(`#rule-${i}-resource`).count()))
        await page.getByRole('button', { name: 'Add a row' }).click();
      await page.locator(`#rule-${i}-resource`).fill(resource);
      for (const op of ops) await page.locator(`#rule-${i}-${op}`).check();
    }
    await page.locator('#organizationId').selectOption('org-payer-a');
    await clickAndWait(page, /^Create$/);
    if (auth === 'secret') await page.getByRole('link', { name: /continue to the service/ }).click();
    return new URL(page.url()).pathname.split('/').pop()!;
  }

  async function submit(page: Page, id: string, note = '') {
    await page.goto(`/portal/services/${id}`);
    await page.getByRole('link', { name: /Submit for Review/ }).waitFor();
    await page.getByRole('link', { name: /Submit for Review/ }).click();
    if (note) await page.locator('#note').fill(note);
    await clickAndWait(page, /Submit for Review/);
    expect(await page.locator('h1 .badge').innerText()).toBe('Under Review');
  }

  /** Holds production setup for a few seconds: the production stand-in refuses the Client's creation. */
  function holdProduction(id: string, times = 8) {
    system.standins.production.failNext({
      kind: 'error-before',
      status: 503,
      method: 'PUT',
      path: new RegExp(`/Client/${id}$`),
      times,
    });
  }

  it('Enter in Name saves the form; every error at once, in sentences, summarised and focused', async () => {
    const page = await devContext.newPage();
    await page.goto('/portal/services/new');
    pages['register form'] = { path: '/portal/services/new', as: 'dev' };

    // Only a name, then Enter: the form is saved (and refused), not given a blank scope row.
    await page.locator('#name').fill(`Enter test ${tag}`);
    await Promise.all([page.waitForNavigation(), page.locator('#name').press('Enter')]);
    expect(await page.locator('[data-rule]').count()).toBe(1);
    const summary = page.locator('#form-errors');
    expect(await summary.isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('form-errors');
    // All at once: e-mail, JWKS URI, scopes and Organization, each linked to its field.
    const links = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(
      expect.arrayContaining(['#contactEmail', '#jwksUri', '#rule-0-resource', '#organizationId']),
    );
    for (const href of links) expect(await page.locator(href!).count()).toBe(1);
    expectPlain(await shownErrors(page));

    // A mistyped resource type gets a suggestion.
    await page.locator('#rule-0-resource').fill('Patinet');
    await page.locator('#rule-0-read').check();
    await page.locator('#contactEmail').fill('not-an-email');
    await clickAndWait(page, /^Create$/);
    expect(await page.locator('#rule-0-resource-error').innerText()).toContain('Did you mean Patient?');
    expect(await page.locator('#contactEmail-error').innerText()).toContain('such as ops@example.com');
    expectPlain(await shownErrors(page));

    // An error only the API finds (a control character) is a sentence too.
    await page.locator('#rule-0-resource').fill('Patient');
    await page.locator('#contactEmail').fill('ops@acme.example');
    await page.locator('#auth-secret').check();
    await page.locator('#organizationId').selectOption('org-payer-a');
    await page.locator('#description').evaluate((el: HTMLTextAreaElement) => (el.value = 'bell \u0007 here'));
    await clickAndWait(page, /^Create$/);
    expect(await page.locator('#description-error').innerText()).toMatch(/^Description /);
    expectPlain(await shownErrors(page));

    // Fixed, and Enter in Name again: the service is created.
    await page.locator('#description').fill('Claims sync');
    await Promise.all([page.waitForNavigation(), page.locator('#name').press('Enter')]);
    expect(await page.locator('h1').innerText()).toContain('Service registered');
    const secret = await page.locator('#client-secret').inputValue();
    await page.getByRole('link', { name: /continue to the service/ }).click();
    const id = new URL(page.url()).pathname.split('/').pop()!;

    // The service page's curl commands run as pasted once the secret is filled in (sandbox on loopback).
    await waitForText(page, 'Token URL');
    const commands = (await page.locator('#sandbox-curl').textContent())!;
    expect(commands).toContain('ACCESS_TOKEN=$(curl');
    // No proxy from the environment: the commands talk to the stand-in on 127.0.0.1 and nothing else.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/proxy/i.test(k)));
    // Asynchronously: the stand-ins answering curl run in this very process.
    const ran = await new Promise<{ stdout: string; stderr: string; error: Error | null }>((resolve) =>
      execFile(
        'bash',
        ['-c', commands.replace('paste your client secret here', secret)],
        { encoding: 'utf8', timeout: 20_000, env: { ...env, NO_PROXY: '*' } },
        (error, stdout, stderr) => resolve({ stdout, stderr, error }),
      ),
    );
    if (!ran.stdout) throw new Error(`the commands printed nothing: ${String(ran.error)} ${ran.stderr}`);
    expect(ran.stdout).toMatch(/token: (?!none)\S+/);
    expect(ran.stdout).toContain('"resourceType"');
    // Left under review: the queue and the review page are checked with it at every width.
    await submit(page, id, 'Replaces the nightly CSV drop');
    pages['review page'] = { path: `/admin/services/${id}`, as: 'admin' };
    await page.close();
  }, 60_000);

  it('a draft whose JWKS fails is marked on the dashboard, its findings in words', async () => {
    const page = await devContext.newPage();
    keys.publish(BAD_JWKS);
    const id = await register(page, `Failing keys ${tag}`, 'jwks', [['Patient', ['read', 'search']]]);
    await waitForText(page, /Credentials\s+Invalid/);
    keys.restore();
    expectPlain(await shownErrors(page));
    pages.draft = { path: `/portal/services/${id}`, as: 'dev' };
    pages['delete confirmation'] = { path: `/portal/services/${id}/delete`, as: 'dev' };
    pages['submit confirmation'] = { path: `/portal/services/${id}/submit`, as: 'dev' };
    await page.goto('/portal');
    expect(await page.locator('tr', { hasText: `Failing keys ${tag}` }).innerText()).toContain(
      'Credentials failing',
    );
    pages.dashboard = { path: '/portal', as: 'dev' };
    await page.close();
  }, 60_000);

  it('the review page puts the decision on the first screen; approval goes live without a reload (JavaScript on)', async () => {
    const dev = await devContext.newPage();
    const id = await register(dev, `Nightly export ${tag}`, 'jwks', [
      ['Patient', ['read', 'search']],
      ['Observation', ['read', 'search']],
    ]);
    await waitForText(dev, /Credentials\s+Valid/);
    await submit(dev, id, 'Needed for the nightly care-gap report');

    const admin = await adminContext.newPage();
    await admin.setViewportSize({ width: 1280, height: 800 });
    await admin.goto('/admin');
    const row = admin.locator('tr', { hasText: `Nightly export ${tag}` });
    const rowText = await row.innerText();
    expect(rowText).toContain('system/Patient.rs');
    expect(rowText).toContain('High'); // bound to an Organization with a child
    expect(rowText).toContain('Payer A');
    pages['review queue'] = { path: '/admin', as: 'admin' };

    await admin.goto(`/admin/services/${id}`);
    const approve = admin.getByRole('button', { name: /^Approve$/ });
    const box = (await approve.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(800);
    expect(await admin.locator('main').innerText()).toContain('Needed for the nightly care-gap report');
    // Every policy's JSON is folded behind its one-line summary.
    expect(await admin.locator('details[open]').count()).toBe(0);
    expect(await admin.locator('details pre').first().isVisible()).toBe(false);
    await admin.screenshot({ path: path.join(SCREENSHOTS, 'review-first-screen-1280x800.png') });

    // A blank reason is refused next to the field, which has the focus.
    await admin.locator('#reject-reason').evaluate((el) => el.removeAttribute('required'));
    await clickAndWait(admin, 'Reject');
    expect(await admin.locator('#reject-error').innerText()).toContain('Enter a reason');
    expect(await admin.evaluate(() => document.activeElement?.id)).toBe('reject-reason');
    expectPlain(await shownErrors(admin));

    holdProduction(id);
    await clickAndWait(admin, /^Approve$/);
    expect(await admin.locator('main').innerText()).toContain('production is being set up');
    await admin
      .locator('h1 .badge', { hasText: 'Active' })
      .waitFor({ timeout: 30_000 })
      .catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await admin.locator('main').innerText()}`);
      });
    expect(await admin.locator('main').innerText()).not.toContain('production is being set up');
    pages.detail = { path: `/portal/services/${id}`, as: 'dev' };
    pages['active list'] = { path: '/admin/active', as: 'admin' };
    pages['revoke confirmation'] = { path: `/portal/services/${id}/revoke`, as: 'dev' };
    pages.guide = { path: `/portal/guide?service=${id}`, as: 'dev' };
    pages['all services, searched'] = { path: `/admin/services?q=${tag}`, as: 'admin' };

    // A stale ?notice= is ignored: the page says what the service is now.
    for (const stale of ['approved', 'submitted', 'created']) {
      await admin.goto(`/admin/services/${id}?notice=${stale}`);
      expect(await admin.locator('.notice').count()).toBe(0);
      await dev.goto(`/portal/services/${id}?notice=${stale}`);
      expect(await dev.locator('.notice').count()).toBe(0);
      expect(await dev.locator('h1 .badge').innerText()).toBe('Active');
    }
    // The all-services search matches names, client IDs and owners.
    await admin.goto(`/admin/services?q=${encodeURIComponent(id)}`);
    expect(await admin.locator('table.services tbody tr').count()).toBe(1);
    await admin.goto(`/admin/services?q=${encodeURIComponent(developer)}`);
    expect(await admin.locator('table.services tbody tr').count()).toBeGreaterThanOrEqual(3);
    await dev.close();
    await admin.close();
  }, 90_000);

  it('without JavaScript, a provisioning service turns Active by itself too', async () => {
    const dev = await devContext.newPage();
    const id = await register(dev, `Claims feed ${tag}`, 'jwks', [['Claim', ['read', 'search']]]);
    await waitForText(dev, /Credentials\s+Valid/);
    await submit(dev, id);
    await dev.close();

    const context = await browser.newContext({ baseURL: base, javaScriptEnabled: false });
    const admin = await context.newPage();
    await signIn(admin, `admin-nojs-${tag}`, ['admin'], false);
    await admin.goto(`/admin/services/${id}`);
    holdProduction(id);
    await clickAndWait(admin, /^Approve$/);
    expect(await admin.locator('main').innerText()).toContain('production is being set up');
    // The page reloads itself (meta refresh) until the service is live.
    await admin.locator('h1 .badge', { hasText: 'Active' }).waitFor({ timeout: 30_000 });
    expect(await admin.locator('head meta[http-equiv="refresh"]').count()).toBe(0);
    await context.close();
  }, 90_000);

  for (const width of WIDTHS)
    it(`every main page fits ${width} px and has no serious accessibility violation`, async () => {
      // The seven pages of the issue, and the newer ones (guide, confirmations, search).
      expect(Object.keys(pages).sort()).toEqual(
        [
          'active list',
          'dashboard',
          'detail',
          'draft',
          'register form',
          'review page',
          'review queue',
          'guide',
          'revoke confirmation',
          'delete confirmation',
          'submit confirmation',
          'all services, searched',
        ].sort(),
      );
      const failures: string[] = [];
      if (width === WIDTHS[0]) {
        // Negative control: axe, injected this way, does report a field without a label.
        const page = await devContext.newPage();
        await page.goto('/portal');
        await page.evaluate(() => document.getElementById('main')!.append(document.createElement('input')));
        await page.evaluate(AXE_SOURCE);
        const ids = await page.evaluate(async () => {
          const axe = (
            window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string }> }> } }
          ).axe;
          return (await axe.run()).violations.map((v) => v.id);
        });
        expect(ids).toContain('label');
        await page.close();
      }
      for (const [name, { path: at, as }] of Object.entries(pages)) {
        const page = await (as === 'dev' ? devContext : adminContext).newPage();
        await page.setViewportSize({ width, height: 900 });
        await page.goto(at);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        if (scrollWidth > innerWidth) failures.push(`${name} at ${width}: ${scrollWidth} px wide`);
        await page.evaluate(AXE_SOURCE);
        const violations = await page.evaluate(async () => {
          const axe = (
            window as unknown as {
              axe: {
                run(): Promise<{
                  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }>;
                }>;
              };
            }
          ).axe;
          const result = await axe.run();
          return result.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map(
              (v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`,
            );
        });
        for (const v of violations) failures.push(`${name} at ${width}: ${v}`);
        expectPlain(await shownErrors(page));
        await page.screenshot({
          path: path.join(SCREENSHOTS, `${name.replace(/ /g, '-')}-${width}.png`),
          fullPage: true,
        });
        await page.close();
      }
      expect(failures).toEqual([]);
    }, 120_000);
});
