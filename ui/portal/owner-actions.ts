import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { allows } from '../allowed-actions.js';
import type { Answer, Service, ServiceDetail } from '../api-client.js';
import { problemPage, type makeHandler, type PageContext } from '../handler.js';
import { when } from '../views/format.js';
import { fieldMessage } from '../views/plain-language.js';
import { csrfField, type Html } from '../views/layout.js';
import { oneButton } from './one-button.js';
import { servicePath } from './paths.js';

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

/** The staged secret, when there is one: when it goes live, and its two controls. */
export function stagedSecretView(ctx: PageContext, service: ServiceDetail): Html {
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
      ${allows(service, 'activateStagedSecret') ? oneButton(ctx, `${path}/activate-staged`, 'Make it live now') : ''}
      ${allows(service, 'dropStagedSecret') ? oneButton(ctx, `${path}/drop-staged`, 'Drop the staged secret') : ''}
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
