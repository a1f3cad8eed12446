import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { problemPage, refusalMessage } from '../handler.js';
import { keepReviewNote } from '../review-notes.js';
import { authMethodLabel, scopeList } from '../views/format.js';
import { csrfField } from '../views/layout.js';
import { fieldMessage } from '../views/plain-language.js';
import { servicePath } from './paths.js';
import type { PortalDeps } from './routes.js';
import { servicePage } from './service-page.js';

/**
 * The service page and what is sent from it: submit (asked once, with a note to the reviewer), the
 * JWKS re-check and the assertion check, each answered on the service page.
 */
export function registerServiceRoutes(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;
  ui.get(
    '/portal/services/:id',
    handle({ signedIn: true }, async (ctx) => servicePage(ctx, deps, ctx.c.req.param('id')!)),
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
        return servicePage(ctx, deps, id, { error: refusalMessage(answer.problem), status: answer.status });
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
        return servicePage(ctx, deps, id, { error: refusalMessage(answer.problem), status: answer.status });
      return problemPage(ctx, answer.problem, 'portal');
    }),
  );

  ui.post(
    '/portal/services/:id/assertion-check',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      if (!(ctx.form.clientAssertion ?? '').trim())
        return servicePage(ctx, deps, id, {
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
      if (answer.ok) return servicePage(ctx, deps, id, { check: answer.body, assertion });
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500) {
        const detail =
          answer.problem.errors?.map((e) => fieldMessage('clientAssertion', e.message)).join(' ') ||
          refusalMessage(answer.problem);
        return servicePage(ctx, deps, id, {
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
}
