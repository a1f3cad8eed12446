import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { parseScope, type ParsedScope } from '../scopes/parse.js';
import { scopeRiskFlags } from '../scopes/risk.js';
import type { HistoryItem, ProductionPolicies, Service } from './api-client.js';
import { problemPage, type makeHandler, type PageContext } from './handler.js';
import { refusalMessage } from './portal.js';
import {
  approvalView,
  authMethodLabel,
  duration,
  historyTable,
  jwksReportView,
  rejectionView,
  statusBadge,
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

const NOTICES: Record<string, string> = {
  approved:
    'Approved. Production is being set up; the service becomes Active when production has the client and its policies.',
  rejected: 'Rejected. The developer sees your reason and may edit and resubmit.',
  deactivated: 'Deactivated. Production no longer accepts this client.',
};

const reviewPath = (id: string) => `/admin/services/${encodeURIComponent(id)}`;

function tabs(current: 'queue' | 'active' | 'all'): Html {
  const tab = (key: typeof current, href: string, label: string) =>
    html`<li><a href="${href}" ${key === current ? html`aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="Review sections" class="tabs">
    <ul class="buttons tabs">
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
                  columns: [
                    'Service',
                    'Owner',
                    'Authentication',
                    'Submitted',
                    'Waiting',
                    'Approval',
                    'Operators',
                  ],
                  rows: items.map(
                    (s) =>
                      html`<tr>
                        <td><a href="${reviewPath(s.id)}">${s.name}</a><br /><code>${s.id}</code></td>
                        <td>${s.ownerId}</td>
                        <td>${authMethodLabel(s)}</td>
                        <td>${when(s.submittedAt)}</td>
                        <td>${duration(s.waitingSeconds)}</td>
                        <td>
                          ${s.approval ? (s.approval.state === 'failed' ? 'failed' : 'in progress') : '—'}
                        </td>
                        <td>${temporalLink(s.id)}</td>
                      </tr>`,
                  ),
                })
          }
          ${nextCursor ? html`<p><a href="/admin?cursor=${encodeURIComponent(nextCursor)}">More</a></p>` : ''}`,
        { notice: NOTICES[ctx.c.req.query('notice') ?? ''] ?? null },
      );
    }),
  );

  function serviceTable(items: Service[], caption: string, withDeactivate: boolean): Html {
    if (items.length === 0) return html`<p>None.</p>`;
    return dataTable({
      caption,
      columns: ['Service', 'Owner', 'Status', 'Organization', 'Updated', 'Actions'],
      rows: items.map(
        (s) =>
          html`<tr>
            <td><a href="${reviewPath(s.id)}">${s.name}</a><br /><code>${s.id}</code></td>
            <td>${s.ownerId}</td>
            <td>${statusBadge(s.status)}</td>
            ${deps.orgbac ? html`<td>${s.organizationId ?? '—'}</td>` : ''}
            <td>${when(s.updatedAt)}</td>
            <td>
              ${withDeactivate && s.status === 'active' ? html`<a class="button danger-link" href="${reviewPath(s.id)}/deactivate">Deactivate ${s.name}</a> ` : ''}${temporalLink(s.id)}
            </td>
          </tr>`,
      ),
    });
  }

  ui.get(
    '/admin/active',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.adminList('active', ctx.c.req.query('cursor'));
      if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
      return ctx.render(
        'Active services',
        'admin',
        html`<h1>Active services</h1>
          ${tabs('active')} ${serviceTable(answer.body.items, 'Live in production, newest first', true)}
          ${answer.body.nextCursor ? html`<p><a href="/admin/active?cursor=${encodeURIComponent(answer.body.nextCursor)}">More</a></p>` : ''}`,
        { notice: NOTICES[ctx.c.req.query('notice') ?? ''] ?? null },
      );
    }),
  );

  ui.get(
    '/admin/services',
    handle({ signedIn: true }, async (ctx) => {
      const status = ctx.c.req.query('status');
      const valid = ['draft', 'under_review', 'active', 'rejected'].includes(status ?? '')
        ? status
        : undefined;
      const answer = await ctx.api.adminList(valid, ctx.c.req.query('cursor'));
      if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
      return ctx.render(
        'All services',
        'admin',
        html`<h1>All services</h1>
          ${tabs('all')}
          <form method="get" action="/admin/services" class="buttons">
            <label for="status-filter">Status</label>
            <select id="status-filter" name="status">
              <option value="">Any</option>
              ${(['draft', 'under_review', 'active', 'rejected'] as const).map(
                (s) =>
                  html`<option value="${s}" ${s === valid ? 'selected' : ''}>${s.replace('_', ' ')}</option>`,
              )}
            </select>
            <button type="submit">Filter</button>
          </form>
          ${serviceTable(answer.body.items, 'Newest first', true)}`,
      );
    }),
  );

  // ---- the review page ----

  async function reviewPage(
    ctx: PageContext,
    id: string,
    extra: { error?: string | null; status?: number } = {},
  ) {
    const answer = await ctx.api.get(id);
    if (!answer.ok) return problemPage(ctx, answer.problem, 'admin');
    const service = answer.body;
    const [history, report, policies] = await Promise.all([
      ctx.api.history(id),
      service.authMethod.type === 'jwks_uri' ? ctx.api.jwksReport(id) : Promise.resolve(null),
      ctx.api.productionPolicies(id),
    ]);
    const items = history.ok ? history.body.items : [];
    const submitted = policies.ok ? policies.body : null;
    return ctx.render(
      `Review ${service.name}`,
      'admin',
      html`<p><a href="/admin">← Review queue</a></p>
        <h1>Review: ${service.name} ${statusBadge(service.status)}</h1>
        <p>${temporalLink(service.id)}</p>
        ${rejectionView(service)} ${approvalView(service)}
        ${
          submitted && submitted.revision !== service.revision && service.status === 'under_review'
            ? html`<div class="error-box" role="alert">
                The production policies were derived at revision ${submitted.revision}; the service is at
                revision ${service.revision}.
              </div>`
            : ''
        }
        <div class="grid2">
          <section aria-labelledby="owner-h">
            <h2 id="owner-h">Owner and details</h2>
            <dl class="constants">
              <dt>Owner</dt>
              <dd>${service.ownerId}</dd>
              <dt>Contact</dt>
              <dd>${service.contactEmail}</dd>
              <dt>Client ID</dt>
              <dd><code>${service.clientId}</code></dd>
              <dt>Description</dt>
              <dd>${service.description || '—'}</dd>
              <dt>Organization</dt>
              <dd>${service.organizationId ?? (deps.orgbac ? '—' : 'none (OrgBAC is off)')}</dd>
              <dt>Revision</dt>
              <dd>${service.revision}</dd>
              <dt>Registered</dt>
              <dd>${when(service.createdAt)}</dd>
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
              <strong>${service.credentials.state}</strong
              >${service.credentials.checkedAt ? html`, checked ${when(service.credentials.checkedAt)}` : ''}
            </p>
            ${service.authMethod.type === 'jwks_uri' ? jwksReportView(report && report.ok ? report.body.report : null, service.credentials.state) : ''}
          </section>
        </div>
        ${scopesWithRisks(service, submitted?.riskFlags)} ${changesSinceLastReview(service, items, submitted)}
        ${productionPoliciesView(submitted, policies.ok ? null : policies.problem.detail)}
        ${decisionForms(ctx, service, submitted)}
        <section aria-labelledby="history-h">
          <h2 id="history-h">Status history</h2>
          ${historyTable(items)}
        </section>`,
      {
        error: extra.error ?? null,
        status: extra.status ?? 200,
        notice: NOTICES[ctx.c.req.query('notice') ?? ''] ?? null,
      },
    );
  }

  function decisionForms(ctx: PageContext, service: Service, submitted: ProductionPolicies | null): Html {
    if (service.status === 'active')
      return html`<p>
        <a class="button" href="${reviewPath(service.id)}/deactivate">Deactivate ${service.name}</a>
      </p>`;
    if (service.status !== 'under_review' || service.approval?.state === 'provisioning') return html``;
    const own = ctx.viewer?.sub === service.ownerId;
    return html`<section aria-labelledby="decide-h">
      <h2 id="decide-h">Decision</h2>
      ${
        submitted
          ? html`<form method="post" action="${reviewPath(service.id)}/approve">
              ${csrfField(ctx.csrf)}
              <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
              <input type="hidden" name="revision" value="${submitted.revision}" />
              <input type="hidden" name="policyHash" value="${submitted.policyHash}" />
              <p>
                Approving copies the client to production with exactly the policies above (revision
                ${submitted.revision}, hash <code>${submitted.policyHash.slice(0, 12)}…</code>).
              </p>
              ${own ? html`<p class="field-error" id="own-why">You own this service: another administrator must approve it.</p>` : ''}
              <button type="submit" class="primary" ${own ? html`disabled aria-describedby="own-why"` : ''}>
                ${service.approval?.state === 'failed' ? 'Approve again' : 'Approve'}
              </button>
            </form>`
          : ''
      }
      <form method="post" action="${reviewPath(service.id)}/reject">
        ${csrfField(ctx.csrf)}
        <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
        <label for="reject-reason">Reason for rejecting (the developer sees it)</label>
        <textarea id="reject-reason" name="reason" rows="3" required maxlength="2000"></textarea>
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
      if (answer.ok) return ctx.c.redirect(`${reviewPath(id)}?notice=approved`, 303);
      if (answer.problem.type.endsWith('/stale-review') || answer.status === 400)
        return reviewPage(ctx, id, {
          error: `Not approved: what you reviewed (revision ${revision}) is no longer what is under review. This page now shows the current submission; review it again. (${answer.problem.detail})`,
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
          error: 'Not rejected: a reason is required; the developer sees it.',
          status: 400,
        });
      const answer = await ctx.api.decide(id, 'reject', reason, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.c.redirect(`/admin?notice=rejected`, 303);
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500)
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
      if (!reason) return deactivatePage(ctx, id, 'A reason is required.', 400);
      if (ctx.form.confirm !== 'final')
        return deactivatePage(ctx, id, 'Confirm that deactivation is final.', 400);
      const answer = await ctx.api.decide(id, 'deactivate', reason, ctx.form.idempotencyKey || randomUUID());
      if (answer.ok) return ctx.c.redirect(`/admin/active?notice=deactivated`, 303);
      if (answer.status === 400 || answer.status === 409 || answer.status >= 500)
        return deactivatePage(ctx, id, refusalMessage(answer.problem), answer.status);
      return problemPage(ctx, answer.problem, 'admin');
    }),
  );
}

/** Risk flags as the API derived them for the submission under review; computed here only for a service never submitted. */
function scopesWithRisks(service: Service, flags: ProductionPolicies['riskFlags'] | undefined): Html {
  const risks =
    flags ??
    scopeRiskFlags(
      service.scopes.strings.map((s) => parseScope(s)).flatMap((r) => (r.ok ? [r.scope as ParsedScope] : [])),
    );
  return html`<section aria-labelledby="scopes-h">
    <h2 id="scopes-h">Scopes (${service.scopes.version})</h2>
    <ul class="scopes">
      ${service.scopes.strings.map((s) => html`<li><code>${s}</code></li>`)}
    </ul>
    ${
      risks.length === 0
        ? html`<p class="ok">No risk flags: read and search on named types only.</p>`
        : html`<ul class="risks">
            ${risks.map((r) => html`<li class="risk-${r.severity}">Risk (${r.severity}): ${r.message}</li>`)}
          </ul>`
    }
  </section>`;
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
        html`<details open>
          <summary><code>${String(p.id ?? '')}</code>: ${String(p.description ?? '')}</summary>
          <pre><code>${JSON.stringify(p, null, 2)}</code></pre>
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
          ? html`, rejected by ${lastReject.actor} ${when(lastReject.at)} with the reason “<span
                class="reason"
                >${lastReject.reason ?? ''}</span
              >”`
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
  const scopesOf = (r: Record<string, unknown>) =>
    ((r.scopes as { strings?: string[] } | undefined)?.strings ?? []).join(' ');
  const authOf = (r: Record<string, unknown>) => {
    const a = r.authMethod as { type?: string; jwksUri?: string } | undefined;
    return a?.type === 'jwks_uri' ? `JWKS URI ${a.jwksUri ?? ''}` : 'Client secret';
  };
  const rows: Array<[string, string, string]> = [
    ['Name', String(previous.name ?? ''), service.name],
    ['Description', String(previous.description ?? ''), service.description],
    ['Contact', String(previous.contactEmail ?? ''), service.contactEmail],
    ['Authentication', authOf(previous), authOf(service as unknown as Record<string, unknown>)],
    ['Scopes', scopesOf(previous), service.scopes.strings.join(' ')],
    ['Organization', String(previous.organizationId ?? '—'), service.organizationId ?? '—'],
    ['Policy hash', oldHash, newHash],
  ];
  const changed = rows.filter(([, a, b]) => a !== b);
  if (changed.length === 0) return html`<p>No field changed.</p>`;
  return dataTable({
    className: 'diff',
    caption: 'Changed fields',
    columns: ['Field', 'Previous review', 'Now'],
    rows: changed.map(
      ([f, a, b]) =>
        html`<tr>
          <td>${f}</td>
          <td><del>${a}</del></td>
          <td><ins>${b}</ins></td>
        </tr>`,
    ),
  });
}
