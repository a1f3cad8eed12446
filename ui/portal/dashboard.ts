import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import { problemPage } from '../handler.js';
import { authMethodLabel, statusBadge, when } from '../views/format.js';
import type { Html } from '../views/layout.js';
import { waitingState } from '../views/service-state.js';
import { dataTable } from '../views/tables.js';
import { NOTICES } from './notices.js';
import { servicePath } from './paths.js';
import type { PortalDeps } from './routes.js';

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

/** The developer's services, newest first, with what keeps each from working. */
export function registerDashboard(ui: Hono, deps: PortalDeps): void {
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
}
