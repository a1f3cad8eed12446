import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Answer, Service } from './api-client.js';
import { problemPage, type makeHandler, type PageContext } from './handler.js';
import { when } from './views/components.js';
import { fieldMessage } from './views/plain-language.js';
import { csrfField, type Html } from './views/layout.js';

/**
 * The owner's undo and emergency controls on the service page: withdraw a submission, delete a
 * service that never went live, revoke a live one, and a staged secret's "activate now" and "drop".
 * Each is one API call; a refusal comes back to the service page in words.
 */
export interface OwnerActionDeps {
  handle: ReturnType<typeof makeHandler>;
  /** Re-renders the service page with an error (a refused action) and its HTTP status. */
  servicePage(ctx: PageContext, id: string, extra: { error: string; status: number }): Promise<Response>;
  refusalMessage(problem: NonNullable<Extract<Answer<unknown>, { ok: false }>['problem']>): string;
}

export const servicePath = (id: string) => `/portal/services/${encodeURIComponent(id)}`;

export const OWNER_NOTICES: Record<string, string> = {
  withdrawn: 'The submission is withdrawn: the service is a Draft again. Edit it and submit when ready.',
  revoked:
    'The service is revoked: production refuses its client, its tokens no longer work, and the sandbox client is removed. This cannot be undone.',
  'staged-activated': 'The staged secret is live now; the previous secret no longer works.',
  'staged-dropped': 'The staged secret was dropped; the live secret stays.',
  'change-submitted':
    'The change is submitted for review; production keeps serving the live revision meanwhile.',
  'change-dropped':
    'The change was dropped; the service is as it is live, and the sandbox serves the live revision again.',
};

const oneButton = (ctx: PageContext, action: string, label: string, cls = '') =>
  html`<form method="post" action="${action}">
    ${csrfField(ctx.csrf)}
    <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
    <button type="submit" class="${cls}">${label}</button>
  </form>`;

/** The buttons these controls add to the service page, by the service's state. */
export function ownerActionButtons(ctx: PageContext, service: Service): Html[] {
  const path = servicePath(service.id);
  const parts: Html[] = [];
  const provisioning = service.approval?.state === 'provisioning';
  if (service.status === 'under_review' && !provisioning)
    parts.push(oneButton(ctx, `${path}/withdraw`, 'Withdraw submission'));
  // A live service changes through a pending change (production keeps serving meanwhile).
  if (service.status === 'active' && !service.pendingChange && !provisioning)
    parts.push(html`<a class="button" href="${path}/edit">Change this service</a>`);
  const neverLive =
    service.status === 'draft' || (service.status === 'rejected' && service.rejection?.kind === 'declined');
  if (neverLive && !provisioning) parts.push(html`<a class="button" href="${path}/delete">Delete</a>`);
  if (service.status === 'active')
    parts.push(html`<a class="button danger" href="${path}/revoke">Revoke now</a>`);
  return parts;
}

/** The staged secret, when there is one: when it goes live, and its two controls. */
export function stagedSecretView(ctx: PageContext, service: Service): Html {
  const staged = service.credentials.stagedSecret;
  if (!staged) return html``;
  const path = servicePath(service.id);
  return html`<section aria-labelledby="staged-h">
    <h2 id="staged-h">Planned secret rotation</h2>
    <p>
      A new secret (version ${staged.version}, fingerprint <code>${staged.fingerprint}</code>) goes live at
      <strong>${when(staged.activateAt)}</strong>. Until then the current secret (version
      ${service.credentials.secret?.version ?? '–'}) keeps working; from then on only the new one does, and
      tokens issued under the old one stop working.
    </p>
    <div class="buttons">
      ${oneButton(ctx, `${path}/activate-staged`, 'Make it live now')}
      ${oneButton(ctx, `${path}/drop-staged`, 'Drop the staged secret')}
    </div>
  </section>`;
}

export function registerOwnerActionPages(ui: Hono, deps: OwnerActionDeps): void {
  const { handle } = deps;

  /** Runs an owner command and goes back to `to`; a refusal is shown on the service page. */
  const act =
    (
      run: (ctx: PageContext, id: string) => Promise<Answer<Service>>,
      to: (id: string) => string,
      notice: string,
    ) =>
    async (ctx: PageContext) => {
      const id = ctx.c.req.param('id')!;
      const answer = await run(ctx, id);
      if (answer.ok) return ctx.redirect(to(id), notice);
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500)
        return deps.servicePage(ctx, id, {
          error: answer.problem.errors?.length
            ? answer.problem.errors.map((e) => fieldMessage(e.field.replace(/^\//, ''), e.message)).join(' ')
            : deps.refusalMessage(answer.problem),
          status: answer.status,
        });
      return problemPage(ctx, answer.problem, 'portal');
    };
  const key = (ctx: PageContext) => ctx.form.idempotencyKey || randomUUID();

  ui.post(
    '/portal/services/:id/withdraw',
    handle(
      { signedIn: true },
      act(
        (ctx, id) => ctx.api.ownerAction(id, 'withdraw', key(ctx)),
        (id) => servicePath(id),
        'withdrawn',
      ),
    ),
  );
  ui.post(
    '/portal/services/:id/activate-staged',
    handle(
      { signedIn: true },
      act(
        (ctx, id) => ctx.api.ownerAction(id, 'activate-staged-secret', key(ctx)),
        (id) => servicePath(id),
        'staged-activated',
      ),
    ),
  );
  ui.post(
    '/portal/services/:id/drop-staged',
    handle(
      { signedIn: true },
      act(
        (ctx, id) => ctx.api.ownerAction(id, 'drop-staged-secret', key(ctx)),
        (id) => servicePath(id),
        'staged-dropped',
      ),
    ),
  );

  const confirmPage = (
    title: string,
    warning: Html,
    action: string,
    button: string,
    ctx: PageContext,
    service: Service,
    extraFields: Html = html``,
  ) =>
    ctx.render(
      title,
      'portal',
      html`<p><a href="${servicePath(service.id)}">← Back</a></p>
        <h1>${title}: ${service.name}</h1>
        <div class="warning-box" role="alert">${warning}</div>
        <form method="post" action="${servicePath(service.id)}/${action}">
          ${csrfField(ctx.csrf)}
          <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
          ${extraFields}
          <div class="buttons">
            <button type="submit" class="danger">${button}</button>
            <a href="${servicePath(service.id)}">Cancel</a>
          </div>
        </form>`,
    );

  ui.get(
    '/portal/services/:id/delete',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      return confirmPage(
        'Delete',
        html`<p>
          The sandbox client and its stored secret are removed and the service is gone from your list. This
          cannot be undone; register a new service to start again.
        </p>`,
        'delete',
        'Delete the service',
        ctx,
        answer.body,
      );
    }),
  );
  ui.post(
    '/portal/services/:id/delete',
    handle(
      { signedIn: true },
      act(
        (ctx, id) => ctx.api.ownerAction(id, 'delete', key(ctx)),
        () => '/portal',
        'deleted',
      ),
    ),
  );

  ui.get(
    '/portal/services/:id/revoke',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      return confirmPage(
        'Revoke',
        html`<p>
          <strong>For a leaked secret or key.</strong> Production refuses this client within seconds, tokens
          it already holds stop working, and the sandbox client is removed. This is final: the client ID
          cannot be used again.
        </p>`,
        'revoke',
        'Revoke now',
        ctx,
        answer.body,
        html`<label for="reason">Why (kept in the service's history)</label>
          <textarea id="reason" name="reason" rows="3" required maxlength="2000"></textarea>`,
      );
    }),
  );
  ui.post(
    '/portal/services/:id/revoke',
    handle(
      { signedIn: true },
      act(
        (ctx, id) => ctx.api.revoke(id, ctx.form.reason ?? '', key(ctx)),
        (id) => servicePath(id),
        'revoked',
      ),
    ),
  );
}

/**
 * A live service's pending change: what it changes, where it stands, and its controls. Production
 * keeps serving the live revision until an administrator approves the change.
 */
export function pendingChangeView(ctx: PageContext, service: Service): Html {
  const change = service.pendingChange;
  if (!change) return html``;
  const path = servicePath(service.id);
  const live = service;
  const next = change.registration;
  const rows: Array<[string, string, string]> = [];
  const compare = (label: string, before: string, after: string) => {
    if (before !== after) rows.push([label, before || '—', after || '—']);
  };
  compare('Name', live.name, next.name);
  compare('Description', live.description, next.description);
  compare('Contact', live.contactEmail, next.contactEmail);
  compare('Scopes', live.scopes.strings.join(' '), next.scopes.strings.join(' '));
  compare('Organization', live.organizationId ?? '', next.organizationId ?? '');
  compare(
    'JWKS URI',
    live.authMethod.type === 'jwks_uri' ? live.authMethod.jwksUri : '',
    next.authMethod.type === 'jwks_uri' ? next.authMethod.jwksUri : '',
  );
  const stateText = {
    draft: 'Draft: not submitted yet. The sandbox serves it as soon as its credentials are valid.',
    under_review: 'Under review: production keeps serving the live revision until an administrator decides.',
    rejected: `Declined at review${change.rejection ? `: “${change.rejection.reason}”` : ''}. Edit it and submit again, or drop it.`,
  }[change.state];
  const canSubmit = change.state !== 'under_review' && change.credentialsState === 'valid';
  return html`<section aria-labelledby="change-h" class="card">
    <h2 id="change-h">Pending change (revision ${change.revision})</h2>
    <p>${stateText}</p>
    ${
      rows.length
        ? html`<table class="diff">
            <caption>
              What the change does to the live service (revision ${live.revision})
            </caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Live now</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                ([label, before, after]) =>
                  html`<tr>
                    <th scope="row">${label}</th>
                    <td>${before}</td>
                    <td>${after}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p>It changes nothing yet.</p>`
    }
    ${change.credentialsState === 'invalid' ? html`<p class="field-error">The change's JWKS does not pass validation: fix it, or edit the URI.</p>` : ''}
    <div class="buttons">
      ${change.state !== 'under_review' ? html`<a class="button" href="${path}/edit">Edit the change</a>` : ''}
      ${canSubmit ? oneButton(ctx, `${path}/submit-change`, 'Submit the change for review', 'primary') : ''}
      ${change.state === 'under_review' ? oneButton(ctx, `${path}/withdraw`, 'Withdraw the change') : ''}
      ${change.state !== 'under_review' ? oneButton(ctx, `${path}/drop-change`, 'Drop the change') : ''}
    </div>
  </section>`;
}

/** A live JWKS service's scheduled key-set check, in words. */
export function credentialHealthView(service: Service): Html {
  const health = service.credentials.health;
  if (!health) return html``;
  return html`<dt>Key set check</dt>
    <dd>
      ${health.state === 'ok' ? html`<span class="badge ok">Passing</span>` : html`<span class="badge danger">Failing</span>`}
      since
      ${when(health.since)}${health.lastCheckedAt ? html`; last checked ${when(health.lastCheckedAt)}` : ''};
      next ${when(health.nextCheckAt)}.
      ${health.state === 'failing' && health.summary ? html`<br />${health.summary} The service stays active: fix the key server, or check again after fixing it.` : ''}
      ${
        health.changes.length
          ? html`<ul>
              ${health.changes.map((c) => html`<li>${c.message}</li>`)}
            </ul>`
          : ''
      }
    </dd>`;
}

export function registerChangePages(ui: Hono, deps: OwnerActionDeps): void {
  const { handle } = deps;
  const key = (ctx: PageContext) => ctx.form.idempotencyKey || randomUUID();
  const act =
    (run: (ctx: PageContext, id: string) => Promise<Answer<Service>>, notice: string) =>
    async (ctx: PageContext) => {
      const id = ctx.c.req.param('id')!;
      const answer = await run(ctx, id);
      if (answer.ok) return ctx.redirect(servicePath(id), notice);
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500)
        return deps.servicePage(ctx, id, {
          error: deps.refusalMessage(answer.problem),
          status: answer.status,
        });
      return problemPage(ctx, answer.problem, 'portal');
    };
  ui.post(
    '/portal/services/:id/submit-change',
    handle(
      { signedIn: true },
      act((ctx, id) => ctx.api.submit(id, key(ctx)), 'change-submitted'),
    ),
  );
  ui.post(
    '/portal/services/:id/drop-change',
    handle(
      { signedIn: true },
      act((ctx, id) => ctx.api.dropPendingChange(id, key(ctx)), 'change-dropped'),
    ),
  );
}
