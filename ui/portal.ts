import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type {
  AssertionCheckAnswer,
  Organization,
  Problem,
  Service,
  ServiceWithSecret,
} from './api-client.js';
import { problemPage, type makeHandler, type PageContext } from './handler.js';
import { registerGuide } from './guide.js';
import { keepReviewNote } from './review-notes.js';
import { fieldMessage, withoutRuleIds } from './views/plain-language.js';
import {
  approvalView,
  authMethodLabel,
  copyable,
  environmentView,
  productionAbsence,
  waitingState,
  historyTable,
  jwksReportView,
  rejectionView,
  scopeList,
  statusBadge,
  when,
  dataTable,
} from './views/components.js';
import { csrfField, type Html } from './views/layout.js';
import {
  OWNER_NOTICES,
  ownerActionButtons,
  registerOwnerActionPages,
  stagedSecretView,
  pendingChangeView,
  credentialHealthView,
  registerChangePages,
} from './owner-actions.js';
import {
  checkForm,
  emptyForm,
  fieldErrorsFrom,
  withoutRow,
  withPreset,
  formFromBody,
  formFromService,
  registrationForm,
  toRegistrationInput,
  type FieldErrors,
  type FormState,
} from './views/registration-form.js';

/**
 * The developer portal (the spec's flow): dashboard, register, the secret shown once, the draft
 * and detail page (submit, edit, rotate, assertion check). Every action is one API call with the
 * signed-in developer's token; a POST carries an idempotency key rendered into its form, so a
 * refresh or double click never acts twice.
 */
export interface PortalDeps {
  handle: ReturnType<typeof makeHandler>;
  orgbac: boolean;
}

/**
 * One-time confirmations after an action (ctx.redirect leaves one for the next page). Each says
 * something that stays true only in some states, so a page shows it only while the service is in
 * one of them: a notice never contradicts the badge next to it.
 */
const NOTICE_HOLDS: Record<string, (service: Service) => boolean> = {
  created: (s) => s.status === 'draft',
  submitted: (s) => s.status === 'under_review' && !s.approval,
  withdrawn: (s) => s.status === 'draft',
  revoked: (s) => s.rejection?.kind === 'revoked-by-owner',
  'staged-activated': (s) => !s.credentials.stagedSecret,
  'staged-dropped': (s) => !s.credentials.stagedSecret,
};

const NOTICES: Record<string, string> = {
  created:
    'The service is registered as a Draft. It works against the sandbox as soon as its credentials are valid.',
  saved: 'Your changes are saved.',
  submitted: 'Submitted for review. An administrator will look at it; this page shows their decision.',
  rechecked: 'The JWKS was fetched and checked again.',
  'secret-shown':
    'This secret was already shown once and is not shown again. Rotate it if you did not keep it.',
  deleted: 'The service was deleted: its sandbox client and stored secret are gone.',
  ...OWNER_NOTICES,
};

const servicePath = (id: string) => `/portal/services/${encodeURIComponent(id)}`;

/** The form buttons that only redraw it (no save): the new form, or null for a save. */
function formIntent(intent: string | undefined, form: FormState): FormState | null {
  if (!intent || intent === 'save') return null;
  if (intent === 'add-row') return { ...form, extraRows: 1 };
  if (intent === 'preview') return form;
  if (intent.startsWith('preset-')) return withPreset(form, intent.slice('preset-'.length));
  const remove = /^remove-row-(\d+)$/.exec(intent);
  if (remove) return withoutRow(form, Number(remove[1]));
  return form;
}

/** The dashboard's mark for credentials that keep a draft from working (or are still being checked). */
function credentialsMark(service: Service): Html {
  if (service.status === 'rejected' || service.deletedAt) return html``;
  if (service.credentials.state === 'invalid')
    return html`<span class="badge badge-warn">Credentials failing</span>`;
  if (service.credentials.state === 'pending') return html`<span class="badge badge-info">Checking…</span>`;
  if (service.approval?.state === 'provisioning')
    return html`<span class="badge badge-info">Going live…</span>`;
  if (service.approval?.state === 'failed') return html`<span class="badge badge-warn">Setup failed</span>`;
  return html``;
}

function credentialsText(service: Service): Html {
  const state = service.credentials.state;
  if (state === 'valid') return html`<span class="ok">Valid</span>`;
  if (state === 'pending') return html`<span class="badge badge-info">Checking</span>`;
  return html`<span class="bad">Invalid: see the JWKS report</span>`;
}

/** People know Organizations by name; the ID stays beside it for support. */
export async function organizationName(ctx: PageContext, id: string): Promise<string | null> {
  const answer = await ctx.api.organizations();
  return answer.ok ? (answer.body.items.find((o) => o.id === id)?.name ?? null) : null;
}

export function organizationLabel(id: string | null, name: string | null): Html {
  if (!id) return html`—`;
  return name ? html`${name} <span class="hint">(<code>${id}</code>)</span>` : html`<code>${id}</code>`;
}

/** The assertion checker's checks, named for people. */
const CHECK_LABELS: Record<string, string> = {
  client: 'Client known to this environment',
  format: 'Is a signed JWT',
  alg: 'Signing algorithm',
  kid: 'Key ID (kid)',
  typ: 'Token type (typ)',
  jku: 'Key set URL (jku)',
  iss: 'Issuer (iss)',
  sub: 'Subject (sub)',
  aud: 'Audience (aud)',
  exp: 'Expiry (exp)',
  jti: 'Unique ID (jti)',
  key: 'Key in your JWKS',
  signature: 'Signature',
};

export function registerPortalRoutes(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;

  ui.get(
    '/portal',
    handle({ signedIn: true }, async (ctx) => {
      const cursor = ctx.c.req.query('cursor');
      const answer = await ctx.api.listOwn(cursor);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const { items, nextCursor } = answer.body;
      const noticeKey = ctx.takeNotice();
      return ctx.render(
        'Backend Services',
        'portal',
        html`<h1>Backend Services</h1>
          <p>
            Non-interactive clients that use the <code>client_credentials</code> grant (bulk export,
            server-to-server). <a href="/portal/guide">How to get a token</a>.
          </p>
          <p><a class="button primary" href="/portal/services/new">Register New</a></p>
          ${
            items.length === 0
              ? html`<p>You have no backend services yet.</p>`
              : dataTable({
                  className: 'services',
                  caption: 'Your services, newest first',
                  columns: ['Name', 'Client ID', 'Status', 'Authentication', 'Registered'],
                  rows: items.map((s) => [
                    html`<a href="${servicePath(s.id)}">${s.name}</a>`,
                    html`<code class="id">${s.clientId}</code>`,
                    html`${statusBadge(s.status)} ${credentialsMark(s)}`,
                    html`${authMethodLabel(s)}`,
                    when(s.createdAt),
                  ]),
                })
          }
          ${nextCursor ? html`<p><a href="/portal?cursor=${encodeURIComponent(nextCursor)}">Older services</a></p>` : ''}`,
        {
          notice: noticeKey ? (NOTICES[noticeKey] ?? null) : null,
          waiting: items.some((s) => waitingState(s))
            ? {
                url: ctx.c.req.path + (cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''),
                state: items.map((s) => waitingState(s) ?? '').join('|'),
              }
            : null,
        },
      );
    }),
  );

  // ---- register ----

  async function organizations(ctx: PageContext): Promise<{ list: Organization[]; error: string | null }> {
    if (!deps.orgbac) return { list: [], error: null };
    const answer = await ctx.api.organizations();
    return answer.ok
      ? { list: answer.body.items, error: null }
      : { list: [], error: `The Organizations could not be loaded (${answer.problem.detail}).` };
  }

  async function renderForm(
    ctx: PageContext,
    form: FormState,
    mode: 'create' | 'edit',
    errors: FieldErrors,
    preview: boolean,
    extra: { error?: string | null; status?: number; service?: Service } = {},
  ) {
    const orgs = await organizations(ctx);
    const title =
      mode === 'create' ? 'Register a Backend Service' : `Edit ${extra.service?.name ?? 'service'}`;
    const action = mode === 'create' ? '/portal/services/new' : `${servicePath(extra.service!.id)}/edit`;
    return ctx.render(
      title,
      'portal',
      html`<p><a href="${mode === 'create' ? '/portal' : servicePath(extra.service!.id)}">← Back</a></p>
        <h1>${title}</h1>
        ${extra.service?.status === 'rejected' ? rejectionView(extra.service) : ''}
        ${registrationForm(form, {
          mode,
          action,
          csrf: ctx.csrf,
          orgbac: deps.orgbac,
          organizations: orgs.list,
          organizationsError: orgs.error,
          errors,
          preview,
        })}`,
      { error: extra.error ?? null, status: extra.status ?? (errors.size ? 400 : 200) },
    );
  }

  ui.get(
    '/portal/services/new',
    handle({ signedIn: true }, async (ctx) =>
      renderForm(ctx, emptyForm(randomUUID()), 'create', new Map(), false),
    ),
  );

  ui.post(
    '/portal/services/new',
    handle({ signedIn: true }, async (ctx) => {
      const form = formFromBody(ctx.form);
      if (!form.idempotencyKey) form.idempotencyKey = randomUUID();
      const redrawn = formIntent(ctx.form.intent, form);
      if (redrawn) return renderForm(ctx, redrawn, 'create', new Map(), true);
      const local = checkForm(form, deps.orgbac);
      if (local.size) return renderForm(ctx, form, 'create', local, true, { status: 400 });

      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.register(input, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, form, 'create', answer.problem, rowOfRule);
      const service = answer.body;
      if (service.authMethod.type === 'client_secret') {
        if (typeof service.clientSecret === 'string')
          return secretPage(ctx, service, service.clientSecret, 'created');
        return ctx.redirect(servicePath(service.id), 'secret-shown');
      }
      return ctx.redirect(servicePath(service.id), 'created');
    }),
  );

  /** A refused save: field errors next to their fields, anything else on top of the form. */
  async function formRefusal(
    ctx: PageContext,
    form: FormState,
    mode: 'create' | 'edit',
    problem: Problem,
    rowOfRule: number[],
    service?: Service,
  ) {
    if (problem.status === 401 || problem.status === 404 || problem.status === 403)
      return problemPage(ctx, problem, 'portal');
    const errors = problem.errors?.length
      ? fieldErrorsFrom(problem.errors, rowOfRule)
      : new Map<string, string[]>();
    // Whatever the page itself sees wrong too, so every error shows at once.
    for (const [key, list] of checkForm(form, deps.orgbac))
      errors.set(key, [...new Set([...(errors.get(key) ?? []), ...list])]);
    // The API may remember a refusal under its key (4xx answers are replayed), and the corrected form
    // is another body: the next attempt is a new request with a new key. A refused request changed nothing.
    const next = { ...form, idempotencyKey: randomUUID() };
    const message =
      problem.status === 412
        ? 'The service changed since you opened this form (someone saved it, or its JWKS was checked again). Reload the page and make your edit again.'
        : errors.size
          ? null
          : withoutRuleIds(problem.detail);
    return renderForm(ctx, next, mode, errors, true, {
      error: message,
      status: problem.status,
      ...(service ? { service } : {}),
    });
  }

  // ---- the secret, once ----

  function secretPage(
    ctx: PageContext,
    service: ServiceWithSecret,
    secret: string,
    why: 'created' | 'rotated' | 'staged',
  ) {
    // The one response that carries the secret: never stored by the browser or a proxy.
    ctx.c.header('Cache-Control', 'no-store');
    ctx.c.header('Pragma', 'no-cache');
    return ctx.render(
      'Your client secret',
      'portal',
      html`<h1>${why === 'created' ? 'Service registered' : 'New client secret'}: ${service.name}</h1>
        <div class="warning-box" role="alert">
          <p>
            <strong>Copy the client secret now. It will not be shown again.</strong> The portal stores it
            encrypted and cannot display it
            later${
              why === 'rotated'
                ? '; the previous secret has stopped working'
                : why === 'staged'
                  ? html`. It goes live at ${when(service.credentials.stagedSecret?.activateAt ?? '')}; until
                    then the current secret keeps working`
                  : ''
            }.
          </p>
        </div>
        <dl class="constants">
          <dt>Client ID</dt>
          <dd><code id="client-id">${service.clientId}</code></dd>
          <dt><label for="client-secret">Client secret</label></dt>
          <dd>
            <input
              id="client-secret"
              class="secret"
              readonly
              value="${secret}"
              aria-describedby="copy-status"
            />
          </dd>
        </dl>
        <div class="buttons">
          <button type="button" data-copy-target="client-secret" data-copy-status="copy-status" hidden>
            Copy secret
          </button>
          <span id="copy-status" role="status"></span>
        </div>
        <p>
          Fingerprint (to recognise it later): <code>${service.credentials.secret?.fingerprint ?? ''}</code>
        </p>
        <p>
          Client secret authentication is not SMART Backend Services / (g)(10) compliant; use a JWKS URI for
          certified bulk data.
        </p>
        <p>
          <a class="button primary" href="${servicePath(service.id)}"
            >I have stored the secret: continue to the service</a
          >
        </p>`,
    );
  }

  // ---- the service ----

  async function servicePage(
    ctx: PageContext,
    id: string,
    extra: {
      notice?: string | null;
      error?: string | null;
      status?: number;
      check?: AssertionCheckAnswer;
      /** The assertion just checked, kept in the field so it can be fixed and checked again. */
      assertion?: string;
    } = {},
  ) {
    const answer = await ctx.api.get(id);
    if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
    const service = answer.body;
    const [history, report] = await Promise.all([
      ctx.api.history(id),
      service.authMethod.type === 'jwks_uri' ? ctx.api.jwksReport(id) : Promise.resolve(null),
    ]);
    const historyItems = history.ok ? history.body.items : [];
    const jwks = report && report.ok ? report.body.report : null;
    const noticeKey = ctx.takeNotice();
    const notice =
      extra.notice ??
      (noticeKey && (NOTICE_HOLDS[noticeKey]?.(service) ?? true) ? (NOTICES[noticeKey] ?? null) : null);
    const orgName =
      deps.orgbac && service.organizationId ? await organizationName(ctx, service.organizationId) : null;
    const waiting = waitingState(service);
    return ctx.render(
      service.name,
      'portal',
      html`<p><a href="/portal">← Dashboard</a></p>
        <h1>${service.name} ${statusBadge(service.status)}</h1>
        ${rejectionView(service)} ${approvalView(service)} ${actions(ctx, service)}
        ${stagedSecretView(ctx, service)} ${pendingChangeView(ctx, service)}
        <section aria-labelledby="details-h">
          <h2 id="details-h">Details</h2>
          <dl class="constants">
            <dt>Client ID</dt>
            <dd>${copyable('client-id', service.clientId, 'client ID')}</dd>
            <dt>Description</dt>
            <dd>${service.description || '—'}</dd>
            <dt>Contact</dt>
            <dd>${service.contactEmail}</dd>
            <dt>Authentication</dt>
            <dd>
              ${authMethodLabel(service)}${
                service.authMethod.type === 'jwks_uri'
                  ? html`: <code>${service.authMethod.jwksUri}</code>`
                  : html` (secret fingerprint <code>${service.credentials.secret?.fingerprint ?? '—'}</code>,
                      version ${service.credentials.secret?.version ?? '—'})`
              }
            </dd>
            <dt>Credentials</dt>
            <dd>
              ${credentialsText(service)}${service.credentials.checkedAt ? html`, checked ${when(service.credentials.checkedAt)}` : ''}
            </dd>
            ${credentialHealthView(service)}
            <dt>Scopes (${service.scopes.version})</dt>
            <dd>${scopeList(service.scopes.strings)}</dd>
            ${
              deps.orgbac
                ? html`<dt>Organization</dt>
                    <dd>${organizationLabel(service.organizationId, orgName)}</dd>`
                : ''
            }
            <dt>Revision</dt>
            <dd>${service.revision}</dd>
          </dl>
        </section>
        ${service.authMethod.type === 'jwks_uri' ? jwksReportView(jwks, service.credentials.state) : ''}
        <section aria-labelledby="env-h">
          <h2 id="env-h">Environment constants</h2>
          <p class="hint">
            <a href="/portal/guide?service=${encodeURIComponent(service.id)}"
              >Get a token with these values</a
            >
            (curl, Node, Python).
          </p>
          ${environmentView('Sandbox', service, service.environments.sandbox, service.environments.sandboxReason ?? 'No sandbox client.')}
          ${environmentView('Production', service, service.environments.production, productionAbsence(service))}
        </section>
        ${service.authMethod.type === 'jwks_uri' && service.status !== 'rejected' ? assertionChecker(ctx, service, extra.check, extra.assertion) : ''}
        <section aria-labelledby="history-h">
          <h2 id="history-h">Status history</h2>
          ${historyTable(historyItems)}
        </section>`,
      {
        notice,
        error: extra.error ? withoutRuleIds(extra.error) : null,
        status: extra.status ?? 200,
        waiting: waiting ? { url: servicePath(service.id), state: waiting } : null,
      },
    );
  }

  function actions(ctx: PageContext, service: Service): Html {
    const id = service.id;
    const editable =
      (service.status === 'draft' ||
        (service.status === 'rejected' && service.rejection?.kind === 'declined')) &&
      !service.approval;
    const canSubmit = editable && service.credentials.state === 'valid';
    const why =
      service.credentials.state === 'invalid'
        ? 'Submit is disabled: the JWKS does not pass validation (see the JWKS report). Fix the document at your JWKS URI, then check it again, or edit the URI.'
        : service.credentials.state === 'pending'
          ? 'Submit is available once the JWKS check finishes; this page updates by itself.'
          : '';
    const parts: Html[] = [];
    if (editable) {
      parts.push(
        canSubmit
          ? html`<a class="button primary" href="${servicePath(id)}/submit"
              >${service.status === 'rejected' ? 'Resubmit for Review' : 'Submit for Review'}</a
            >`
          : html`<button type="button" class="primary" disabled aria-describedby="submit-why">
              ${service.status === 'rejected' ? 'Resubmit for Review' : 'Submit for Review'}
            </button>`,
      );
      parts.push(html`<a class="button" href="${servicePath(id)}/edit">Edit</a>`);
      if (service.authMethod.type === 'jwks_uri' && service.credentials.state !== 'valid') {
        parts.push(
          html`<form method="post" action="${servicePath(id)}/recheck">
            ${csrfField(ctx.csrf)}
            <input type="hidden" name="revision" value="${service.revision}" />
            <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
            <button type="submit">Check the JWKS again</button>
          </form>`,
        );
      }
    }
    if (
      service.authMethod.type === 'client_secret' &&
      service.rejection?.kind !== 'deactivated' &&
      service.rejection?.kind !== 'revoked-by-owner' &&
      service.approval?.state !== 'provisioning' &&
      !service.credentials.stagedSecret
    )
      parts.push(html`<a class="button" href="${servicePath(id)}/rotate">Rotate secret</a>`);
    parts.push(...ownerActionButtons(ctx, service));
    if (parts.length === 0) return html``;
    return html`<div class="buttons actions">${parts}</div>
      ${why && editable ? html`<p class="field-error" id="submit-why">${why}</p>` : ''}`;
  }

  function assertionChecker(
    ctx: PageContext,
    service: Service,
    check?: AssertionCheckAnswer,
    assertion = '',
  ): Html {
    const id = service.id;
    return html`<section aria-labelledby="check-h">
      <h2 id="check-h">Assertion checker</h2>
      <p class="hint">
        Paste a client assertion your service signed: each check of the token endpoint is shown. The assertion
        is not used up.
        <a href="/portal/guide?service=${encodeURIComponent(service.id)}#assertion">How to make one</a>.
      </p>
      <form method="post" action="${servicePath(id)}/assertion-check">
        ${csrfField(ctx.csrf)}
        <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
        <label for="check-env">Environment</label>
        <select id="check-env" name="environment">
          <option value="sandbox">Sandbox</option>
          <option value="production" ${service.status === 'active' ? 'selected' : ''}>Production</option>
        </select>
        <label for="check-assertion">Client assertion (JWT)</label>
        <textarea id="check-assertion" name="clientAssertion" rows="4" required spellcheck="false">
${assertion}</textarea>
        <div class="buttons"><button type="submit">Check assertion</button></div>
      </form>
      ${
        check
          ? html`<div
              id="check-result"
              data-canonical-url="${servicePath(service.id)}"
              class="${check.accepted ? 'notice' : 'error-box'}"
              role="status"
              tabindex="-1"
              autofocus
            >
              <p><strong>${check.accepted ? 'Accepted' : 'Not accepted'}</strong> by ${check.tokenUrl}</p>
              ${dataTable({
                caption: 'Checks',
                columns: ['Check', 'Result', 'Expected', 'Found', 'What it means'],
                rows: check.checks.map((k) => [
                  html`${CHECK_LABELS[k.id] ?? k.id}`,
                  html`<span class="${k.status === 'failed' ? 'bad' : k.status === 'passed' ? 'ok' : ''}"
                    >${k.status}</span
                  >`,
                  html`${k.expected}`,
                  html`${k.found}`,
                  html`${withoutRuleIds(k.message)}`,
                ]),
              })}
              <p class="hint">${withoutRuleIds(check.note)}</p>
            </div>`
          : ''
      }
    </section>`;
  }

  ui.get(
    '/portal/services/:id',
    handle({ signedIn: true }, async (ctx) => servicePage(ctx, ctx.c.req.param('id')!)),
  );

  ui.post(
    '/portal/services/:id/submit',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const answer = await ctx.api.submit(id, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) {
        keepReviewNote(id, answer.body.revision, ctx.form.note ?? '', ctx.viewer?.sub ?? '');
        return ctx.redirect(servicePath(id), 'submitted');
      }
      if (answer.status === 409 || answer.status === 503 || answer.status === 502)
        return servicePage(ctx, id, { error: refusalMessage(answer.problem), status: answer.status });
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );

  // Submitting asks once: what the reviewer will see, and an optional note to them.
  ui.get(
    '/portal/services/:id/submit',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const service = answer.body;
      const again = service.status === 'rejected';
      return ctx.render(
        again ? 'Resubmit for review' : 'Submit for review',
        'portal',
        html`<p><a href="${servicePath(service.id)}">← Back</a></p>
          <h1>${again ? 'Resubmit' : 'Submit'} ${service.name} for review</h1>
          <p>
            An administrator reviews the service as it is now (revision ${service.revision}): its scopes, its
            authentication and ${deps.orgbac ? 'its Organization' : 'its details'}. You cannot edit it while
            it is under review, but you can withdraw it.
          </p>
          <dl class="constants">
            <dt>Scopes</dt>
            <dd>${scopeList(service.scopes.strings)}</dd>
            <dt>Authentication</dt>
            <dd>${authMethodLabel(service)}</dd>
          </dl>
          <form method="post" action="${servicePath(service.id)}/submit">
            ${csrfField(ctx.csrf)}
            <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
            <label for="note">Note to the reviewer (optional)</label>
            <textarea id="note" name="note" rows="3" maxlength="2000" aria-describedby="note-hint"></textarea>
            <p class="hint" id="note-hint">
              For example why the service needs these
              scopes${again ? ', or what you changed since the rejection' : ''}.
            </p>
            <div class="buttons">
              <button type="submit" class="primary">
                ${again ? 'Resubmit for Review' : 'Submit for Review'}
              </button>
              <a href="${servicePath(service.id)}">Cancel</a>
            </div>
          </form>`,
      );
    }),
  );

  // The developer fixed their key server: the API re-checks without editing (no new revision).
  ui.post(
    '/portal/services/:id/recheck',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const answer = await ctx.api.recheckCredentials(id, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.redirect(servicePath(id), 'rechecked');
      if (answer.status === 409 || answer.status === 503)
        return servicePage(ctx, id, { error: refusalMessage(answer.problem), status: answer.status });
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );

  ui.get(
    '/portal/services/:id/edit',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const service = answer.body;
      return renderForm(ctx, formFromService(service, randomUUID()), 'edit', new Map(), true, { service });
    }),
  );

  ui.post(
    '/portal/services/:id/edit',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const current = await ctx.api.get(id);
      if (!current.ok) return problemPage(ctx, current.problem, 'portal');
      const service = current.body;
      const form = formFromBody(ctx.form);
      form.authType = service.authMethod.type; // the method cannot change
      if (!form.idempotencyKey) form.idempotencyKey = randomUUID();
      const redrawn = formIntent(ctx.form.intent, form);
      if (redrawn) return renderForm(ctx, redrawn, 'edit', new Map(), true, { service });
      const local = checkForm(form, deps.orgbac);
      if (local.size) return renderForm(ctx, form, 'edit', local, true, { service, status: 400 });
      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.edit(id, input, form.revision ?? service.revision, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, form, 'edit', answer.problem, rowOfRule, service);
      return ctx.redirect(servicePath(id), 'saved');
    }),
  );

  ui.get(
    '/portal/services/:id/rotate',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const service = answer.body;
      return ctx.render(
        'Rotate secret',
        'portal',
        html`<p><a href="${servicePath(service.id)}">← Back</a></p>
          <h1>Rotate the client secret of ${service.name}</h1>
          <div class="warning-box" role="alert">
            <p>
              <strong>Without a time, the current secret stops working at once</strong>, in the sandbox and
              (when live) in production, and tokens issued with it stop working too. Anything still using it
              will fail until you deploy the new one. The new secret is shown once.
            </p>
          </div>
          <p class="hint">
            Aidbox keeps one secret per client, so two secrets cannot both work. To switch without a gap, plan
            the rotation: the new secret is shown now and goes live at the time you choose, so you can deploy
            it in that moment. (A JWKS service rotates with overlap instead: publish the new key beside the
            old one, then remove the old one.)
          </p>
          <form method="post" action="${servicePath(service.id)}/rotate">
            ${csrfField(ctx.csrf)}
            <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
            <label for="activate-at">Go live at (UTC, optional)</label>
            <input id="activate-at" name="activateAt" type="datetime-local" />
            <div class="buttons">
              <button type="submit" class="danger">Rotate secret</button>
              <a href="${servicePath(service.id)}">Cancel</a>
            </div>
          </form>`,
      );
    }),
  );

  ui.post(
    '/portal/services/:id/rotate',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      // datetime-local sends "2026-12-01T09:00" (no zone): the page says it is UTC.
      const local = (ctx.form.activateAt ?? '').trim();
      const activateAt = local
        ? /[zZ]|[+-]\d\d:\d\d$/.test(local)
          ? local
          : `${local.length === 16 ? `${local}:00` : local}Z`
        : undefined;
      const answer = await ctx.api.rotateSecret(id, ctx.form.idempotencyKey || randomUUID(), activateAt);
      if (!answer.ok) {
        if (answer.status === 400 || answer.status === 409 || answer.status >= 500) {
          const detail =
            answer.problem.errors?.map((e) => fieldMessage('activateAt', e.message)).join(' ') ||
            refusalMessage(answer.problem);
          return servicePage(ctx, id, {
            error: `The secret was not rotated: ${detail}`,
            status: answer.status,
          });
        }
        return problemPage(ctx, answer.problem, 'portal');
      }
      if (typeof answer.body.clientSecret === 'string')
        return secretPage(
          ctx,
          answer.body,
          answer.body.clientSecret,
          answer.body.credentials.stagedSecret ? 'staged' : 'rotated',
        );
      return ctx.redirect(servicePath(id), 'secret-shown');
    }),
  );

  ui.post(
    '/portal/services/:id/assertion-check',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      if (!(ctx.form.clientAssertion ?? '').trim())
        return servicePage(ctx, id, {
          error: 'The assertion was not checked: paste a client assertion (a signed JWT) first.',
          status: 400,
        });
      const answer = await ctx.api.assertionCheck(
        id,
        ctx.form.environment === 'production' ? 'production' : 'sandbox',
        (ctx.form.clientAssertion ?? '').trim(),
        ctx.form.idempotencyKey || randomUUID(),
      );
      const assertion = (ctx.form.clientAssertion ?? '').trim();
      if (answer.ok) return servicePage(ctx, id, { check: answer.body, assertion });
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500) {
        const detail =
          answer.problem.errors?.map((e) => fieldMessage('clientAssertion', e.message)).join(' ') ||
          refusalMessage(answer.problem);
        return servicePage(ctx, id, {
          error: `The assertion was not checked: ${detail}`,
          status: answer.status,
          assertion,
        });
      }
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );
  // The checker's answer is a POST's page; its address, reloaded or bookmarked, is the service.
  ui.get('/portal/services/:id/assertion-check', (c) => c.redirect(servicePath(c.req.param('id')), 303));
  registerGuide(ui, { handle });
  registerOwnerActionPages(ui, {
    handle,
    servicePage: (ctx, id, extra) => servicePage(ctx, id, extra),
    refusalMessage,
  });
  registerChangePages(ui, {
    handle,
    servicePage: (ctx, id, extra) => servicePage(ctx, id, extra),
    refusalMessage,
  });
}

/** A refused action in words; the JWKS report travels with a credentials refusal and is on the page anyway. */
export function refusalMessage(problem: Problem): string {
  if (problem.type.endsWith('/credentials-invalid'))
    return `Not submitted: the JWKS does not pass validation. ${problem.report?.summary ?? problem.detail}`;
  if (problem.status === 503) return `${problem.detail} Try again in a few seconds.`;
  return problem.detail;
}
