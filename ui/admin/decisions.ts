import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { problemPage, refusalMessage, type PageContext } from '../handler.js';
import { csrfField } from '../views/layout.js';
import { fieldMessage, withoutRuleIds } from '../views/plain-language.js';
import { reviewPath } from './links.js';
import { reviewPage } from './review-page.js';
import type { AdminDeps } from './routes.js';

/**
 * An administrator's decisions: approve and reject (from the review page, which shows a refusal in
 * words), and deactivate, which asks for a reason and a confirmation first.
 */
export function registerDecisionRoutes(ui: Hono, deps: AdminDeps): void {
  const { handle } = deps;
  ui.post(
    '/admin/services/:id/approve',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const revision = Number(ctx.form.revision);
      const answer = await ctx.api.approve(
        id,
        revision,
        ctx.form.policyHash ?? '',
        ctx.form.idempotencyKey || randomUUID(),
      );
      if (answer.ok) return ctx.redirect(reviewPath(id));
      if (answer.problem.type.endsWith('/stale-review') || answer.status === 400)
        return reviewPage(ctx, deps, id, {
          error: `Not approved: what you reviewed (revision ${revision}) is no longer what is under review. This page now shows the current submission; review it again.`,
          status: 409,
        });
      if (answer.status === 409 || answer.status >= 500 || answer.problem.type.endsWith('/self-approval'))
        return reviewPage(ctx, deps, id, {
          error: `Not approved: ${refusalMessage(answer.problem)}`,
          status: answer.status,
        });
      return problemPage(ctx, answer.problem, 'admin');
    }),
  );

  ui.post(
    '/admin/services/:id/reject',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const reason = (ctx.form.reason ?? '').trim();
      if (!reason)
        return reviewPage(ctx, deps, id, {
          rejectError: 'Enter a reason: the developer sees it and uses it to fix the service.',
          status: 400,
        });
      const answer = await ctx.api.decide(id, 'reject', reason, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.redirect('/admin', 'rejected');
      if (answer.status === 400)
        return reviewPage(ctx, deps, id, {
          rejectError:
            (answer.problem.errors ?? []).map((e) => fieldMessage('reason', e.message)).join(' ') ||
            withoutRuleIds(answer.problem.detail),
          reason,
          status: 400,
        });
      if (answer.status === 409 || answer.status >= 500)
        return reviewPage(ctx, deps, id, {
          error: `Not rejected: ${refusalMessage(answer.problem)}`,
          status: answer.status,
        });
      return problemPage(ctx, answer.problem, 'admin');
    }),
  );

  async function deactivatePage(ctx: PageContext, id: string, error: string | null = null, status = 200) {
    const answer = await ctx.api.get(id);
    if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
    const service = answer.body;
    return ctx.render(
      `Deactivate ${service.name}`,
      'admin',
      html`<p><a href="${reviewPath(id)}">← Back</a></p>
        <h1>Deactivate ${service.name}</h1>
        <div class="warning-box" role="alert">
          <p>
            <strong>Deactivation is final.</strong> Production stops accepting this client at once, its
            sandbox client is removed, and the service cannot be reactivated; the developer would have to
            register a new one.
          </p>
        </div>
        <form method="post" action="${reviewPath(id)}/deactivate">
          ${csrfField(ctx.csrf)}
          <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
          <label for="deactivate-reason">Reason (the developer sees it)</label>
          <textarea
            id="deactivate-reason"
            name="reason"
            rows="3"
            required
            maxlength="2000"
            ${error ? html`aria-describedby="deactivate-error" aria-invalid="true"` : ''}
          ></textarea>
          ${error ? html`<p class="field-error" id="deactivate-error">${error}</p>` : ''}
          <div class="choice">
            <input type="checkbox" id="deactivate-confirm" name="confirm" value="final" required />
            <label for="deactivate-confirm">I understand that deactivating ${service.name} is final.</label>
          </div>
          <div class="buttons">
            <button type="submit" class="danger">Deactivate</button> <a href="${reviewPath(id)}">Cancel</a>
          </div>
        </form>`,
      { status },
    );
  }

  ui.get(
    '/admin/services/:id/deactivate',
    handle({ signedIn: true }, async (ctx) => deactivatePage(ctx, ctx.c.req.param('id')!)),
  );

  ui.post(
    '/admin/services/:id/deactivate',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const reason = (ctx.form.reason ?? '').trim();
      if (!reason) return deactivatePage(ctx, id, 'Enter a reason: the developer sees it.', 400);
      if (ctx.form.confirm !== 'final')
        return deactivatePage(ctx, id, 'Confirm that deactivation is final.', 400);
      const answer = await ctx.api.decide(id, 'deactivate', reason, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.redirect('/admin/active', 'deactivated');
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500)
        return deactivatePage(
          ctx,
          id,
          (answer.problem.errors ?? []).map((e) => fieldMessage('reason', e.message)).join(' ') ||
            refusalMessage(answer.problem),
          answer.status,
        );
      return problemPage(ctx, answer.problem, 'admin');
    }),
  );
}
