import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { allows } from '../allowed-actions.js';
import type { Answer, Service, ServiceDetail } from '../api-client.js';
import { problemPage, type PageContext } from '../handler.js';
import type { Html } from '../views/layout.js';
import { oneButton } from './one-button.js';
import type { OwnerActionDeps } from './owner-actions.js';
import { servicePath } from './paths.js';

/**
 * A live service's pending change: what it changes, where it stands, and its controls (those the
 * API allows now). Production keeps serving the live revision until an administrator approves the
 * change.
 */
export function pendingChangeView(ctx: PageContext, service: ServiceDetail): Html {
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
  const canSubmit = allows(service, 'submit') && change.credentialsState === 'valid';
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
      ${allows(service, 'edit') ? html`<a class="button" href="${path}/edit">Edit the change</a>` : ''}
      ${canSubmit ? oneButton(ctx, `${path}/submit-change`, 'Submit the change for review', 'primary') : ''}
      ${allows(service, 'withdraw') ? oneButton(ctx, `${path}/withdraw`, 'Withdraw the change') : ''}
      ${allows(service, 'dropPendingChange') ? oneButton(ctx, `${path}/drop-change`, 'Drop the change') : ''}
    </div>
  </section>`;
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
