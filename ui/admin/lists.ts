import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import { problemPage } from '../handler.js';
import { organizationNames } from '../organizations.js';
import { authMethodLabel, duration, scopeList, STATUS_LABELS, statusBadge, when } from '../views/format.js';
import type { Html } from '../views/layout.js';
import { dataTable } from '../views/tables.js';
import { NOTICES, reviewPath, temporalLink } from './links.js';
import { localRisks, riskLevel } from './review-views.js';
import type { AdminDeps } from './routes.js';

/** The three lists' tabs, the current one marked. */
function tabs(current: 'queue' | 'active' | 'all'): Html {
  const tab = (key: typeof current, href: string, label: string) =>
    html`<li><a href="${href}" ${key === current ? html`aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="Review sections" class="tabs">
    <ul>
      ${tab('queue', '/admin', 'Review queue')}${tab('active', '/admin/active', 'Active services')}${tab('all', '/admin/services', 'All services')}
    </ul>
  </nav>`;
}

/** The review queue (oldest first, with its waiting time), the active services, and all services with search. */
export function registerListPages(ui: Hono, deps: AdminDeps): void {
  const { handle } = deps;
  ui.get(
    '/admin',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.reviewQueue(ctx.c.req.query('cursor'));
      if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
      const { items, nextCursor } = answer.body;
      // What each submission asks for: its derived policies' risk flags and whether it was reviewed before.
      const [details, orgs] = await Promise.all([
        Promise.all(items.map((s) => ctx.api.productionPolicies(s.id))),
        organizationNames(ctx),
      ]);
      const noticeKey = ctx.takeNotice();
      return ctx.render(
        'Review queue',
        'admin',
        html`<h1>Review queue</h1>
          ${tabs('queue')}
          ${
            items.length === 0
              ? html`<p>No service is waiting for review.</p>`
              : dataTable({
                  className: 'queue',
                  caption: 'Under review, oldest first',
                  columns: ['Service', 'Scopes', 'Risk', 'Organization', 'Owner', 'Waiting', 'Operators'],
                  rows: items.map((s, i) => {
                    const detail = details[i]!;
                    const policies = detail.ok ? detail.body : null;
                    return [
                      html`<a href="${reviewPath(s.id)}">${s.name}</a>
                        ${policies?.previousSubmission ? html` <span class="badge badge-info">Resubmitted</span>` : ''}
                        ${s.approval ? html` <span class="badge ${s.approval.state === 'failed' ? 'badge-warn' : 'badge-info'}">${s.approval.state === 'failed' ? 'Setup failed' : 'Going live…'}</span>` : ''}
                        <br /><code class="id">${s.id}</code><br /><span class="hint"
                          >${authMethodLabel(s)}</span
                        >`,
                      scopeList(s.scopes.strings),
                      riskLevel(policies?.riskFlags ?? localRisks(s)),
                      html`${s.organizationId ? (orgs.get(s.organizationId) ?? s.organizationId) : '—'}`,
                      html`${s.ownerId}`,
                      html`${duration(s.waitingSeconds)}<br /><span class="hint"
                          >since ${when(s.submittedAt)}</span
                        >`,
                      temporalLink(deps, s.id),
                    ];
                  }),
                })
          }
          ${nextCursor ? html`<p><a href="/admin?cursor=${encodeURIComponent(nextCursor)}">More</a></p>` : ''}`,
        {
          notice: noticeKey ? (NOTICES[noticeKey] ?? null) : null,
          waiting: items.some((s) => s.approval?.state === 'provisioning')
            ? { url: '/admin', state: items.map((s) => `${s.id}:${s.approval?.state ?? ''}`).join('|') }
            : null,
        },
      );
    }),
  );

  function serviceTable(
    items: Service[],
    caption: string,
    withDeactivate: boolean,
    orgs: Map<string, string>,
  ): Html {
    if (items.length === 0) return html`<p>None.</p>`;
    return dataTable({
      caption,
      className: 'services',
      columns: [
        'Service',
        'Owner',
        'Status',
        ...(deps.orgbac ? ['Organization'] : []),
        'Registered',
        'Actions',
      ],
      rows: items.map((s) => [
        html`<a href="${reviewPath(s.id)}">${s.name}</a><br /><code class="id">${s.id}</code><br /><span
            class="hint"
            >${temporalLink(deps, s.id)}</span
          >`,
        html`${s.ownerId}`,
        statusBadge(s.status),
        ...(deps.orgbac
          ? [html`${s.organizationId ? (orgs.get(s.organizationId) ?? s.organizationId) : '—'}`]
          : []),
        when(s.createdAt),
        withDeactivate && s.status === 'active'
          ? html`<a class="danger-link" href="${reviewPath(s.id)}/deactivate"
              >Deactivate<span class="visually-hidden"> ${s.name}</span></a
            >`
          : html`—`,
      ]),
    });
  }

  ui.get(
    '/admin/active',
    handle({ signedIn: true }, async (ctx) => {
      const [answer, orgs] = await Promise.all([
        ctx.api.adminList('active', ctx.c.req.query('cursor')),
        organizationNames(ctx),
      ]);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
      const noticeKey = ctx.takeNotice();
      return ctx.render(
        'Active services',
        'admin',
        html`<h1>Active services</h1>
          ${tabs('active')}
          ${serviceTable(answer.body.items, 'Live in production, newest registration first', true, orgs)}
          ${answer.body.nextCursor ? html`<p><a href="/admin/active?cursor=${encodeURIComponent(answer.body.nextCursor)}">More</a></p>` : ''}`,
        { notice: noticeKey ? (NOTICES[noticeKey] ?? null) : null },
      );
    }),
  );

  /** The API lists by registration time and filters by exact owner; the page searches what it lists. */
  const SEARCH_PAGES = 5;

  ui.get(
    '/admin/services',
    handle({ signedIn: true }, async (ctx) => {
      const status = ctx.c.req.query('status');
      const valid = ['draft', 'under_review', 'active', 'rejected'].includes(status ?? '')
        ? status
        : undefined;
      const q = (ctx.c.req.query('q') ?? '').trim();
      const health = ctx.c.req.query('health') === 'failing' ? 'failing' : undefined;
      const orgs = await organizationNames(ctx);
      let items: Service[] = [];
      let cursor = ctx.c.req.query('cursor');
      let nextCursor: string | null = null;
      // Searching reads up to SEARCH_PAGES pages of 100 and filters them (name, client ID, owner).
      for (let page = 0; page < (q ? SEARCH_PAGES : 1); page++) {
        const answer = await ctx.api.adminList(valid, cursor, health);
        if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
        items.push(...answer.body.items);
        nextCursor = answer.body.nextCursor;
        if (!nextCursor) break;
        cursor = nextCursor;
      }
      if (q) {
        const needle = q.toLowerCase();
        items = items.filter((s) =>
          [s.name, s.id, s.ownerId].some((field) => field.toLowerCase().includes(needle)),
        );
      }
      const more = new URLSearchParams({
        ...(valid ? { status: valid } : {}),
        ...(q ? { q } : {}),
        ...(health ? { health } : {}),
      });
      return ctx.render(
        'All services',
        'admin',
        html`<h1>All services</h1>
          ${tabs('all')}
          <form method="get" action="/admin/services" class="search" role="search">
            <div>
              <label for="search-q">Search name, client ID or owner</label>
              <input id="search-q" name="q" type="search" value="${q}" />
            </div>
            <div>
              <label for="status-filter">Status</label>
              <select id="status-filter" name="status">
                <option value="">Any</option>
                ${(['draft', 'under_review', 'active', 'rejected'] as const).map(
                  (s) =>
                    html`<option value="${s}" ${s === valid ? 'selected' : ''}>${STATUS_LABELS[s]}</option>`,
                )}
              </select>
            </div>
            <div class="checkbox">
              <input
                id="health-filter"
                name="health"
                type="checkbox"
                value="failing"
                ${health ? 'checked' : ''}
              />
              <label for="health-filter">Only live JWKS services whose key set check is failing</label>
            </div>
            <button type="submit">Search</button>
          </form>
          ${q ? html`<p role="status">${items.length} ${items.length === 1 ? 'service matches' : 'services match'} “${q}”${nextCursor ? ` among the ${SEARCH_PAGES * 100} newest` : ''}.</p>` : ''}
          ${serviceTable(items, 'Newest registration first', true, orgs)}
          ${nextCursor && !q ? html`<p><a href="/admin/services?${more.toString() ? `${more}&` : ''}cursor=${encodeURIComponent(nextCursor)}">More</a></p>` : ''}`,
      );
    }),
  );
}
