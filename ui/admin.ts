import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { parseScope, type ParsedScope } from '../scopes/parse.js';
import { scopeRiskFlags } from '../scopes/risk.js';
import type { HistoryItem, ProductionPolicies, Service } from './api-client.js';
import { problemPage, type makeHandler, type PageContext } from './handler.js';
import { organizationLabel, refusalMessage } from './portal.js';
import { reviewNote } from './review-notes.js';
import { fieldMessage, withoutRuleIds } from './views/plain-language.js';
import {
  approvalView,
  authMethodLabel,
  duration,
  historyTable,
  jwksReportView,
  rejectionView,
  scopeList,
  STATUS_LABELS,
  statusBadge,
  waitingState,
  when,
  dataTable,
} from './views/components.js';
import { csrfField, type Html } from './views/layout.js';

/**
 * The review UI: the queue (oldest first, waiting time), the review page with everything an
 * approval commits to on one screen, approve / reject, the active list with deactivate, and a link
 * to each service's workflow in the Temporal Web UI for operators.
 */
export interface AdminDeps {
  handle: ReturnType<typeof makeHandler>;
  orgbac: boolean;
  temporalUiUrl: string;
  temporalNamespace: string;
}

/** One-time confirmations (ctx.redirect); an approval's progress is shown from the service's state instead. */
const NOTICES: Record<string, string> = {
  rejected: 'Rejected. The developer sees your reason and may edit and resubmit.',
  deactivated: 'Deactivated. Production no longer accepts this client.',
};

const reviewPath = (id: string) => `/admin/services/${encodeURIComponent(id)}`;

function tabs(current: 'queue' | 'active' | 'all'): Html {
  const tab = (key: typeof current, href: string, label: string) =>
    html`<li><a href="${href}" ${key === current ? html`aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="Review sections" class="tabs">
    <ul>
      ${tab('queue', '/admin', 'Review queue')}${tab('active', '/admin/active', 'Active services')}${tab('all', '/admin/services', 'All services')}
    </ul>
  </nav>`;
}

export function registerAdminRoutes(ui: Hono, deps: AdminDeps): void {
  const { handle } = deps;
  const workflowLink = (id: string) =>
    `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.temporalNamespace)}/workflows/${encodeURIComponent(`backend-service/${id}`)}`;
  const temporalLink = (id: string) =>
    html`<a href="${workflowLink(id)}" target="_blank" rel="noopener">Workflow in Temporal</a>`;

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
                    const policies = details[i]!.ok
                      ? (details[i] as { body: ProductionPolicies }).body
                      : null;
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
                      temporalLink(s.id),
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
            >${temporalLink(s.id)}</span
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

  // ---- the review page ----

  async function reviewPage(
    ctx: PageContext,
    id: string,
    extra: { error?: string | null; status?: number; rejectError?: string; reason?: string } = {},
  ) {
    const answer = await ctx.api.get(id);
    if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
    const live = answer.body;
    const [history, report, policies, orgs] = await Promise.all([
      ctx.api.history(id),
      live.authMethod.type === 'jwks_uri' ? ctx.api.jwksReport(id) : Promise.resolve(null),
      ctx.api.productionPolicies(id),
      organizationNames(ctx),
    ]);
    const items = history.ok ? history.body.items : [];
    const submitted = policies.ok ? policies.body : null;
    // A change to a live service is reviewed as the change: its registration, beside what is live.
    const change = submitted?.change && live.pendingChange ? live.pendingChange : null;
    const service = change ? { ...live, ...change.registration, revision: change.revision } : live;
    const risks = submitted?.riskFlags ?? localRisks(service);
    const note = service.status === 'under_review' ? reviewNote(service.id, service.revision) : null;
    const orgName = service.organizationId ? (orgs.get(service.organizationId) ?? null) : null;
    const waiting = waitingState(service);
    const noticeKey = ctx.takeNotice();
    return ctx.render(
      `Review ${service.name}`,
      'admin',
      html`<p><a href="/admin">← Review queue</a></p>
        <h1>Review: ${service.name} ${statusBadge(service.status)}</h1>
        ${rejectionView(live)} ${approvalView(live)}
        ${
          change && submitted
            ? html`<div class="notice" role="status">
                  <strong>A change to a live service</strong> (revision ${change.revision}). Production keeps
                  serving revision ${live.revision} until you decide; approving updates it with no gap.
                </div>
                ${policyDiffView(submitted.policyDiff ?? null)}`
            : ''
        }
        ${
          submitted && submitted.revision !== service.revision && service.status === 'under_review'
            ? html`<div class="error-box" role="alert">
                The production policies were derived at revision ${submitted.revision}; the service is at
                revision ${service.revision}.
              </div>`
            : ''
        }
        <div class="review-top">
          <section aria-labelledby="summary-h">
            <h2 id="summary-h">Summary</h2>
            <dl class="constants">
              <dt>Who</dt>
              <dd>
                ${service.ownerId} (<a href="mailto:${service.contactEmail}">${service.contactEmail}</a>)
              </dd>
              <dt>Organization</dt>
              <dd>
                ${
                  service.organizationId
                    ? organizationLabel(service.organizationId, orgName)
                    : deps.orgbac
                      ? '—'
                      : 'none (OrgBAC is off)'
                }
              </dd>
              <dt>Scopes (${service.scopes.version})</dt>
              <dd>${scopesWithNotation(service)}</dd>
              <dt>Authentication</dt>
              <dd>
                ${authMethodLabel(service)}${
                  service.authMethod.type === 'client_secret'
                    ? html`: <span class="risk-medium">not SMART Backend Services / (g)(10) compliant.</span>`
                    : html`; credentials ${credentialsWord(service)}`
                }
              </dd>
              <dt>Risk</dt>
              <dd>${riskList(risks)}</dd>
              ${
                submitted?.previousSubmission
                  ? html`<dt>Resubmission</dt>
                      <dd>${scopeChanges(submitted.previousSubmission.registration, service)}</dd>`
                  : ''
              }
              ${
                note
                  ? html`<dt>Note from ${note.by}</dt>
                      <dd><q class="note">${note.note}</q></dd>`
                  : ''
              }
            </dl>
          </section>
          ${decisionForms(ctx, service, submitted, extra)}
        </div>
        ${changesSinceLastReview(service, items, submitted)}
        <section aria-labelledby="owner-h">
          <h2 id="owner-h">Details</h2>
          <dl class="constants">
            <dt>Client ID</dt>
            <dd><code>${service.clientId}</code></dd>
            <dt>Description</dt>
            <dd>${service.description || '—'}</dd>
            <dt>Revision</dt>
            <dd>${service.revision}</dd>
            <dt>Registered</dt>
            <dd>${when(service.createdAt)}</dd>
            <dt>Operators</dt>
            <dd>${temporalLink(service.id)}</dd>
          </dl>
        </section>
        <section aria-labelledby="auth-h">
          <h2 id="auth-h">Authentication</h2>
          <p>
            ${authMethodLabel(service)}${
              service.authMethod.type === 'jwks_uri'
                ? html`: <code>${service.authMethod.jwksUri}</code>`
                : html`. Not SMART Backend Services / (g)(10) compliant.`
            }
          </p>
          <p>
            Credentials:
            <strong>${credentialsWord(service)}</strong
            >${service.credentials.checkedAt ? html`, checked ${when(service.credentials.checkedAt)}` : ''}
          </p>
          ${service.authMethod.type === 'jwks_uri' ? jwksReportView(report && report.ok ? report.body.report : null, service.credentials.state) : ''}
        </section>
        ${productionPoliciesView(submitted, policies.ok ? null : policies.problem.detail)}
        <section aria-labelledby="history-h">
          <h2 id="history-h">Status history</h2>
          ${historyTable(items)}
        </section>`,
      {
        error: extra.error ?? null,
        status: extra.status ?? 200,
        notice: noticeKey ? (NOTICES[noticeKey] ?? null) : null,
        waiting: waiting ? { url: reviewPath(service.id), state: waiting } : null,
      },
    );
  }

  function decisionForms(
    ctx: PageContext,
    service: Service,
    submitted: ProductionPolicies | null,
    extra: { rejectError?: string; reason?: string },
  ): Html {
    if (service.status === 'active')
      return html`<section aria-labelledby="decide-h" class="decision">
        <h2 id="decide-h">Live in production</h2>
        <p>
          <a class="button danger-link" href="${reviewPath(service.id)}/deactivate"
            >Deactivate ${service.name}</a
          >
        </p>
      </section>`;
    if (service.status !== 'under_review') return html``;
    if (service.approval?.state === 'provisioning')
      return html`<section aria-labelledby="decide-h" class="decision">
        <h2 id="decide-h">Decision</h2>
        <p role="status">
          Approved by ${service.approval.by}; production is being set up. This page updates by itself.
        </p>
      </section>`;
    const own = ctx.viewer?.sub === service.ownerId;
    return html`<section aria-labelledby="decide-h" class="decision">
      <h2 id="decide-h">Decision</h2>
      ${
        submitted
          ? html`<form method="post" action="${reviewPath(service.id)}/approve">
              ${csrfField(ctx.csrf)}
              <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
              <input type="hidden" name="revision" value="${submitted.revision}" />
              <input type="hidden" name="policyHash" value="${submitted.policyHash}" />
              <p class="hint">
                Approving copies the client to production with exactly the
                <a href="#policies-h">${submitted.policies.length} policies below</a> (revision
                ${submitted.revision}, hash <code>${submitted.policyHash.slice(0, 12)}…</code>).
              </p>
              ${own ? html`<p class="field-error" id="own-why">You own this service: another administrator must approve it.</p>` : ''}
              <button type="submit" class="primary" ${own ? html`disabled aria-describedby="own-why"` : ''}>
                ${service.approval?.state === 'failed' ? 'Approve again' : 'Approve'}
              </button>
            </form>`
          : html`<p>The production policies could not be loaded, so the service cannot be approved now.</p>`
      }
      <form method="post" action="${reviewPath(service.id)}/reject">
        ${csrfField(ctx.csrf)}
        <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
        <label for="reject-reason">Reason for rejecting (the developer sees it)</label>
        <textarea
          id="reject-reason"
          name="reason"
          rows="3"
          required
          maxlength="2000"
          ${extra.rejectError ? html`aria-invalid="true" aria-describedby="reject-error" autofocus` : ''}
        >
${extra.reason ?? ''}</textarea>
        ${extra.rejectError ? html`<p class="field-error" id="reject-error">${extra.rejectError}</p>` : ''}
        <div class="buttons"><button type="submit" class="danger">Reject</button></div>
      </form>
    </section>`;
  }

  ui.get(
    '/admin/services/:id',
    handle({ signedIn: true }, async (ctx) => reviewPage(ctx, ctx.c.req.param('id')!)),
  );

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
        return reviewPage(ctx, id, {
          error: `Not approved: what you reviewed (revision ${revision}) is no longer what is under review. This page now shows the current submission; review it again.`,
          status: 409,
        });
      if (answer.status === 409 || answer.status >= 500 || answer.problem.type.endsWith('/self-approval'))
        return reviewPage(ctx, id, {
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
        return reviewPage(ctx, id, {
          rejectError: 'Enter a reason: the developer sees it and uses it to fix the service.',
          status: 400,
        });
      const answer = await ctx.api.decide(id, 'reject', reason, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.redirect('/admin', 'rejected');
      if (answer.status === 400)
        return reviewPage(ctx, id, {
          rejectError:
            (answer.problem.errors ?? []).map((e) => fieldMessage('reason', e.message)).join(' ') ||
            withoutRuleIds(answer.problem.detail),
          reason,
          status: 400,
        });
      if (answer.status === 409 || answer.status >= 500)
        return reviewPage(ctx, id, {
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

/** Risk flags computed here only for a service never submitted (the API derives them at submission). */
function localRisks(service: Service): ProductionPolicies['riskFlags'] {
  return scopeRiskFlags(
    service.scopes.strings.map((s) => parseScope(s)).flatMap((r) => (r.ok ? [r.scope as ParsedScope] : [])),
  );
}

const SEVERITY_ORDER = ['high', 'medium', 'low'] as const;

/** The queue's one-word risk: the highest severity among the flags. */
function riskLevel(flags: ProductionPolicies['riskFlags']): Html {
  const top = SEVERITY_ORDER.find((level) => flags.some((f) => f.severity === level));
  if (!top) return html`<span class="ok">Low: named types, read only</span>`;
  const count = flags.filter((f) => f.severity === top).length;
  return html`<span class="risk-${top}">${top[0]!.toUpperCase() + top.slice(1)}</span>
    <span class="hint"
      >(${flags.length}
      flag${flags.length === 1 ? '' : 's'}${count < flags.length ? `, ${count} ${top}` : ''})</span
    >`;
}

function riskList(flags: ProductionPolicies['riskFlags']): Html {
  if (flags.length === 0)
    return html`<span class="ok">No risk flags: read and search on named types only.</span>`;
  const sorted = [...flags].sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
  );
  return html`<ul class="risks">
    ${sorted.map((r) => html`<li class="risk-${r.severity}">Risk (${r.severity}): ${withoutRuleIds(r.message)}</li>`)}
  </ul>`;
}

/** v1 and v2 name the same permissions differently; the derived policies speak v2 ("Derived from system/*.rs"). */
const V1_TO_V2: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
export const asV2 = (scope: string) =>
  scope.replace(/\.(read|write|\*)$/, (_m, p: string) => `.${V1_TO_V2[p] ?? p}`);

function scopesWithNotation(service: Service): Html {
  return html`${scopeList(service.scopes.strings)}
  ${
    service.scopes.version === 'v1'
      ? html`<p class="hint">
          In v2 notation, as the policies below name them:
          ${service.scopes.strings.map((s, i) => html`${i ? ', ' : ''}<code>${asV2(s)}</code>`)}.
        </p>`
      : ''
  }`;
}

const scopesOf = (r: Record<string, unknown>) =>
  (r.scopes as { strings?: string[] } | undefined)?.strings ?? [];

/** Scopes added and removed since the previous review, one scope at a time. */
function scopeChanges(previous: Record<string, unknown>, service: Service): Html {
  const before = scopesOf(previous);
  const now = service.scopes.strings;
  const added = now.filter((s) => !before.includes(s));
  const removed = before.filter((s) => !now.includes(s));
  if (!added.length && !removed.length) return html`Scopes unchanged since the previous review.`;
  return html`<ul class="scopes">
    ${added.map((s) => html`<li class="added"><span class="visually-hidden">added </span><code>+ ${s}</code></li>`)}
    ${removed.map((s) => html`<li class="removed"><span class="visually-hidden">removed </span><code>− ${s}</code></li>`)}
  </ul>`;
}

/** One side of the scope diff: every scope, those missing from the other side marked. */
function markedScopes(list: string[], other: string[], mark: 'added' | 'removed'): Html {
  return html`<ul class="scopes">
    ${list.map((s) =>
      other.includes(s)
        ? html`<li><code>${s}</code></li>`
        : html`<li class="${mark}"><span class="visually-hidden">${mark} </span><code>${s}</code></li>`,
    )}
  </ul>`;
}

function credentialsWord(service: Service): string {
  return service.credentials.state === 'valid'
    ? 'valid'
    : service.credentials.state === 'pending'
      ? 'being checked'
      : 'invalid (see the JWKS report)';
}

/** Organization ID → name, for the pages that list or show them (people know them by name). */
async function organizationNames(ctx: PageContext): Promise<Map<string, string>> {
  const answer = await ctx.api.organizations();
  const names = new Map<string, string>();
  if (answer.ok) for (const org of answer.body.items) if (org.name) names.set(org.id, org.name);
  return names;
}

function productionPoliciesView(submitted: ProductionPolicies | null, unavailable: string | null): Html {
  if (!submitted)
    return html`<section aria-labelledby="policies-h">
      <h2 id="policies-h">Production access policies</h2>
      <p>${unavailable ?? 'Not derived yet.'}</p>
    </section>`;
  return html`<section aria-labelledby="policies-h">
    <h2 id="policies-h">Production access policies</h2>
    <p>
      Derived at submission (revision ${submitted.revision}, ${when(submitted.submittedAt)}). Policy hash:
      <code id="policy-hash">${submitted.policyHash}</code>
    </p>
    ${
      submitted.notes.length
        ? html`<ul>
            ${submitted.notes.map((n) => html`<li>${n}</li>`)}
          </ul>`
        : ''
    }
    ${submitted.policies.map(
      (p) =>
        html`<details>
          <summary>
            ${String(p.description ?? p.id ?? 'Policy')}
            <span class="hint">(<code>${String(p.id ?? '')}</code>, JSON)</span>
          </summary>
          <pre tabindex="0"><code>${JSON.stringify(p, null, 2)}</code></pre>
        </details>`,
    )}
  </section>`;
}

/**
 * What changed since the previous review. The field-by-field comparison needs the previous
 * submission from the API (`previousSubmission`); until it has one, the history shows what happened
 * between the two reviews (the decline, its reason, the edits).
 */
function changesSinceLastReview(
  service: Service,
  history: HistoryItem[],
  submitted: ProductionPolicies | null,
): Html {
  const submits = history.filter((h) => h.action === 'submit');
  if (submits.length < 2) return html``;
  const lastReject = [...history].reverse().find((h) => h.action === 'reject');
  const lastSubmit = submits[submits.length - 1]!;
  const previousSubmit = submits[submits.length - 2]!;
  const edits = history.filter(
    (h) => h.action === 'edit' && h.at > previousSubmit.at && h.at <= lastSubmit.at,
  );
  const previous = submitted?.previousSubmission ?? null;
  return html`<section aria-labelledby="changes-h" class="changes">
    <h2 id="changes-h">Resubmission: changes since the previous review</h2>
    <p>
      Previously submitted at revision ${previousSubmit.revision}
      (${when(previousSubmit.at)})${
        lastReject
          ? html`, rejected by ${lastReject.actor} ${when(lastReject.at)} with the reason
              <q class="reason">${(lastReject.reason ?? '').trim()}</q>`
          : ''
      }.
      Resubmitted at revision ${lastSubmit.revision} after ${edits.length}
      edit${edits.length === 1 ? '' : 's'}.
    </p>
    ${previous ? registrationDiff(previous.registration, service, previous.policyHash, submitted?.policyHash ?? '') : ''}
  </section>`;
}

function registrationDiff(
  previous: Record<string, unknown>,
  service: Service,
  oldHash: string,
  newHash: string,
): Html {
  const authOf = (r: Record<string, unknown>) => {
    const a = r.authMethod as { type?: string; jwksUri?: string } | undefined;
    return a?.type === 'jwks_uri' ? `JWKS URI ${a.jwksUri ?? ''}` : 'Client secret';
  };
  const text = (a: string, b: string): [Html, Html] => [html`<del>${a}</del>`, html`<ins>${b}</ins>`];
  const rows: Array<[string, boolean, Html, Html]> = [
    ['Name', previous.name !== service.name, ...text(String(previous.name ?? ''), service.name)],
    [
      'Description',
      previous.description !== service.description,
      ...text(String(previous.description ?? ''), service.description),
    ],
    [
      'Contact',
      previous.contactEmail !== service.contactEmail,
      ...text(String(previous.contactEmail ?? ''), service.contactEmail),
    ],
    [
      'Authentication',
      authOf(previous) !== authOf(service as unknown as Record<string, unknown>),
      ...text(authOf(previous), authOf(service as unknown as Record<string, unknown>)),
    ],
    [
      'Scopes',
      scopesOf(previous).join(' ') !== service.scopes.strings.join(' '),
      markedScopes(scopesOf(previous), service.scopes.strings, 'removed'),
      markedScopes(service.scopes.strings, scopesOf(previous), 'added'),
    ],
    [
      'Organization',
      (previous.organizationId ?? null) !== service.organizationId,
      ...text(String(previous.organizationId ?? '—'), service.organizationId ?? '—'),
    ],
    [
      'Policy hash',
      oldHash !== newHash,
      html`<code>${oldHash.slice(0, 16)}…</code>`,
      html`<code>${newHash.slice(0, 16)}…</code>`,
    ],
  ];
  const changed = rows.filter(([, differs]) => differs);
  if (changed.length === 0) return html`<p>No field changed.</p>`;
  return dataTable({
    className: 'diff',
    caption: 'Changed fields',
    columns: ['Field', 'Previous review', 'Now'],
    rows: changed.map(([f, , a, b]) => [html`${f}`, a, b]),
  });
}

/** What approving a change does to production's access policies, each with its reason. */
function policyDiffView(
  diff: Record<'added' | 'removed' | 'changed', Array<{ id: string; reason: string }>> | null,
): Html {
  if (!diff) return html``;
  const part = (title: string, items: Array<{ id: string; reason: string }>) =>
    items.length
      ? html`<h3>${title}</h3>
          <ul>
            ${items.map((p) => html`<li>${p.reason}</li>`)}
          </ul>`
      : '';
  const none = !diff.added.length && !diff.removed.length && !diff.changed.length;
  return html`<section aria-labelledby="policy-diff-h">
    <h2 id="policy-diff-h">What production's policies become</h2>
    ${none ? html`<p>No access policy changes: the change touches only the registration.</p>` : ''}
    ${part('Added', diff.added)} ${part('Removed', diff.removed)} ${part('Changed', diff.changed)}
  </section>`;
}
