import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { ServiceWithSecret } from '../api-client.js';
import { problemPage, refusalMessage, type PageContext } from '../handler.js';
import { when } from '../views/format.js';
import { csrfField } from '../views/layout.js';
import { fieldMessage } from '../views/plain-language.js';
import { servicePath } from './paths.js';
import type { PortalDeps } from './routes.js';
import { servicePage } from './service-page.js';

/** The client secret, shown once (after registering or rotating), and the rotation pages. */
export function secretPage(
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

export function registerSecretPages(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;
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
          return servicePage(ctx, deps, id, {
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
}
