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
import {
  approvalView,
  authMethodLabel,
  environmentView,
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
} from './owner-actions.js';
import {
  emptyForm,
  fieldErrorsFrom,
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

const NOTICES: Record<string, string> = {
  created:
    'The service is registered as a Draft. It works against the sandbox as soon as its credentials are valid.',
  saved: 'Your changes are saved.',
  submitted: 'Submitted for review. Status: Under Review.',
  rechecked: 'The JWKS was fetched and checked again.',
  'secret-shown':
    'This secret was already shown once and is not shown again. Rotate it if you did not keep it.',
  deleted: 'The service was deleted: its sandbox client and stored secret are gone.',
  ...OWNER_NOTICES,
};

const servicePath = (id: string) => `/portal/services/${encodeURIComponent(id)}`;

export function registerPortalRoutes(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;

  ui.get(
    '/portal',
    handle({ signedIn: true }, async (ctx) => {
      const cursor = ctx.c.req.query('cursor');
      const answer = await ctx.api.listOwn(cursor);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const { items, nextCursor } = answer.body;
      return ctx.render(
        'Backend Services',
        'portal',
        html`<h1>Backend Services</h1>
          <p>
            Non-interactive clients that use the <code>client_credentials</code> grant (bulk export,
            server-to-server).
          </p>
          <p><a class="button primary" href="/portal/services/new">Register New</a></p>
          ${
            items.length === 0
              ? html`<p>You have no backend services yet.</p>`
              : dataTable({
                  className: 'services',
                  caption: 'Your services, newest first',
                  columns: ['Name', 'Client ID', 'Status', 'Authentication', 'Registered'],
                  rows: items.map(
                    (s) =>
                      html`<tr>
                        <td><a href="${servicePath(s.id)}">${s.name}</a></td>
                        <td><code>${s.clientId}</code></td>
                        <td>${statusBadge(s.status)}</td>
                        <td>${authMethodLabel(s)}</td>
                        <td>${when(s.createdAt)}</td>
                      </tr>`,
                  ),
                })
          }
          ${nextCursor ? html`<p><a href="/portal?cursor=${encodeURIComponent(nextCursor)}">Older services</a></p>` : ''}`,
        { notice: NOTICES[ctx.c.req.query('notice') ?? ''] ?? null },
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
      const intent = ctx.form.intent ?? 'save';
      if (intent === 'add-row') return renderForm(ctx, { ...form, extraRows: 1 }, 'create', new Map(), true);
      if (intent === 'preview') return renderForm(ctx, form, 'create', new Map(), true);

      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.register(input, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, form, 'create', answer.problem, rowOfRule);
      const service = answer.body;
      if (service.authMethod.type === 'client_secret') {
        if (typeof service.clientSecret === 'string')
          return secretPage(ctx, service, service.clientSecret, 'created');
        return ctx.c.redirect(`${servicePath(service.id)}?notice=secret-shown`, 303);
      }
      return ctx.c.redirect(`${servicePath(service.id)}?notice=created`, 303);
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
    // The API may remember a refusal under its key (4xx answers are replayed), and the corrected form
    // is another body: the next attempt is a new request with a new key. A refused request changed nothing.
    const next = { ...form, idempotencyKey: randomUUID() };
    const message =
      problem.status === 412
        ? 'The service changed since you opened this form (someone saved it, or its JWKS was checked again). Reload the page and make your edit again.'
        : errors.size
          ? null
          : problem.detail;
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
    const notice = extra.notice ?? NOTICES[ctx.c.req.query('notice') ?? ''] ?? null;
    return ctx.render(
      service.name,
      'portal',
      html`<p><a href="/portal">← Dashboard</a></p>
        <h1>${service.name} ${statusBadge(service.status)}</h1>
        ${rejectionView(service)} ${approvalView(service)} ${actions(ctx, service)}
        ${stagedSecretView(ctx, service)}
        <section aria-labelledby="details-h">
          <h2 id="details-h">Details</h2>
          <dl class="constants">
            <dt>Client ID</dt>
            <dd><code>${service.clientId}</code></dd>
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
              ${service.credentials.state}${service.credentials.checkedAt ? html`, checked ${when(service.credentials.checkedAt)}` : ''}
            </dd>
            <dt>Scopes (${service.scopes.version})</dt>
            <dd>${scopeList(service.scopes.strings)}</dd>
            ${
              deps.orgbac
                ? html`<dt>Organization</dt>
                    <dd>${service.organizationId ?? '—'}</dd>`
                : ''
            }
            <dt>Revision</dt>
            <dd>${service.revision}</dd>
          </dl>
        </section>
        ${service.authMethod.type === 'jwks_uri' ? jwksReportView(jwks, service.credentials.state) : ''}
        <section aria-labelledby="env-h">
          <h2 id="env-h">Environment constants</h2>
          ${environmentView('Sandbox', service, service.environments.sandbox, service.environments.sandboxReason ?? 'No sandbox client.')}
          ${environmentView('Production', service, service.environments.production, 'Production URLs appear once the service is approved and live.')}
        </section>
        ${service.authMethod.type === 'jwks_uri' && service.status !== 'rejected' ? assertionChecker(ctx, service, extra.check) : ''}
        <section aria-labelledby="history-h">
          <h2 id="history-h">Status history</h2>
          ${historyTable(historyItems)}
        </section>`,
      { notice, error: extra.error ?? null, status: extra.status ?? 200 },
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
          ? 'Submit is disabled while the JWKS is being checked. Reload in a moment.'
          : '';
    const parts: Html[] = [];
    if (editable) {
      parts.push(
        html`<form method="post" action="${servicePath(id)}/submit">
          ${csrfField(ctx.csrf)}
          <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
          <button
            type="submit"
            class="primary"
            ${canSubmit ? '' : html`disabled aria-describedby="submit-why"`}
          >
            ${service.status === 'rejected' ? 'Resubmit for Review' : 'Submit for Review'}
          </button>
        </form>`,
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

  function assertionChecker(ctx: PageContext, service: Service, check?: AssertionCheckAnswer): Html {
    const id = service.id;
    return html`<section aria-labelledby="check-h">
      <h2 id="check-h">Assertion checker</h2>
      <p class="hint">
        Paste a client assertion your service signed: each check of the token endpoint is shown. The assertion
        is not used up.
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
        <textarea id="check-assertion" name="clientAssertion" rows="4" required></textarea>
        <div class="buttons"><button type="submit">Check assertion</button></div>
      </form>
      ${
        check
          ? html`<div id="check-result" class="${check.accepted ? 'notice' : 'error-box'}" role="status">
              <p><strong>${check.accepted ? 'Accepted' : 'Not accepted'}</strong> by ${check.tokenUrl}</p>
              <table>
                <caption>
                  Checks
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Check</th>
                    <th scope="col">Result</th>
                    <th scope="col">Expected</th>
                    <th scope="col">Found</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  ${check.checks.map(
                    (k) =>
                      html`<tr>
                        <td>${k.id} (${k.rule})</td>
                        <td class="${k.status === 'failed' ? 'bad' : k.status === 'passed' ? 'ok' : ''}">
                          ${k.status}
                        </td>
                        <td>${k.expected}</td>
                        <td>${k.found}</td>
                        <td>${k.message}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              <p class="hint">${check.note}</p>
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
      if (answer.ok) return ctx.c.redirect(`${servicePath(id)}?notice=submitted`, 303);
      if (answer.status === 409 || answer.status === 503 || answer.status === 502)
        return servicePage(ctx, id, { error: refusalMessage(answer.problem), status: answer.status });
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );

  // The developer fixed their key server: the API re-checks without editing (no new revision).
  ui.post(
    '/portal/services/:id/recheck',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const answer = await ctx.api.recheckCredentials(id, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.c.redirect(`${servicePath(id)}?notice=rechecked`, 303);
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
      const intent = ctx.form.intent ?? 'save';
      if (intent === 'add-row')
        return renderForm(ctx, { ...form, extraRows: 1 }, 'edit', new Map(), true, { service });
      if (intent === 'preview') return renderForm(ctx, form, 'edit', new Map(), true, { service });
      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.edit(id, input, form.revision ?? service.revision, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, form, 'edit', answer.problem, rowOfRule, service);
      return ctx.c.redirect(`${servicePath(id)}?notice=saved`, 303);
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
            answer.problem.errors?.map((e) => e.message).join('; ') || refusalMessage(answer.problem);
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
      return ctx.c.redirect(`${servicePath(id)}?notice=secret-shown`, 303);
    }),
  );

  ui.post(
    '/portal/services/:id/assertion-check',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const answer = await ctx.api.assertionCheck(
        id,
        ctx.form.environment === 'production' ? 'production' : 'sandbox',
        (ctx.form.clientAssertion ?? '').trim(),
        ctx.form.idempotencyKey || randomUUID(),
      );
      if (answer.ok) return servicePage(ctx, id, { check: answer.body });
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500) {
        const detail =
          answer.problem.errors?.map((e) => e.message).join('; ') || refusalMessage(answer.problem);
        return servicePage(ctx, id, {
          error: `The assertion was not checked: ${detail}`,
          status: answer.status,
        });
      }
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );
  registerOwnerActionPages(ui, {
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
