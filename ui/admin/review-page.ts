import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { allows, refusalOf } from '../allowed-actions.js';
import type { ProductionPolicies, ServiceDetail } from '../api-client.js';
import { problemPage, type PageContext } from '../handler.js';
import { organizationLabel, organizationNames } from '../organizations.js';
import { reviewNote } from '../review-notes.js';
import { authMethodLabel, statusBadge, when } from '../views/format.js';
import { jwksReportView } from '../views/jwks-report.js';
import { csrfField, type Html } from '../views/layout.js';
import { sentence } from '../views/plain-language.js';
import { approvalView, rejectionView, waitingState } from '../views/service-state.js';
import { historyTable } from '../views/tables.js';
import { changesSinceLastReview, policyDiffView, scopeChanges } from './changes-view.js';
import { NOTICES, reviewPath, temporalLink } from './links.js';
import {
  credentialsWord,
  localRisks,
  productionPoliciesView,
  riskList,
  scopesWithNotation,
} from './review-views.js';
import type { AdminDeps } from './routes.js';

/**
 * The review page: everything an approval commits to on one screen (summary and risks beside the
 * decision form, what changed since the previous review, the production policies), bound to the
 * revision and policy hash that were reviewed.
 */
export function registerReviewPage(ui: Hono, deps: AdminDeps): void {
  ui.get(
    '/admin/services/:id',
    deps.handle({ signedIn: true }, async (ctx) => reviewPage(ctx, deps, ctx.c.req.param('id')!)),
  );
}

export async function reviewPage(
  ctx: PageContext,
  deps: AdminDeps,
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
            <dd>${service.ownerId} (<a href="mailto:${service.contactEmail}">${service.contactEmail}</a>)</dd>
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
          <dd>${temporalLink(deps, service.id)}</dd>
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

/**
 * The decision column: approve and reject while a submission (or a live service's change) is under
 * review, deactivate while it is live; each only when the API allows it now, and a refused
 * approval says why in the API's words.
 */
function decisionForms(
  ctx: PageContext,
  service: ServiceDetail,
  submitted: ProductionPolicies | null,
  extra: { rejectError?: string; reason?: string },
): Html {
  const decision = decisionSection(ctx, service, submitted, extra);
  const live = allows(service, 'deactivate')
    ? html`<section aria-labelledby="live-h" class="decision">
        <h2 id="live-h">Live in production</h2>
        <p>
          <a class="button danger-link" href="${reviewPath(service.id)}/deactivate"
            >Deactivate ${service.name}</a
          >
        </p>
      </section>`
    : null;
  // One cell of the review's grid, whichever sections there are (a live service's change has both).
  if (decision && live) return html`<div>${decision}${live}</div>`;
  return decision ?? live ?? html``;
}

function decisionSection(
  ctx: PageContext,
  service: ServiceDetail,
  submitted: ProductionPolicies | null,
  extra: { rejectError?: string; reason?: string },
): Html | null {
  if (service.approval?.state === 'provisioning')
    return html`<section aria-labelledby="decide-h" class="decision">
      <h2 id="decide-h">Decision</h2>
      <p role="status">
        Approved by ${service.approval.by}; production is being set up. This page updates by itself.
      </p>
    </section>`;
  if (!allows(service, 'approve') && !allows(service, 'reject')) return null;
  const refused = refusalOf(service, 'approve');
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
            ${refused ? html`<p class="field-error" id="approve-why">${sentence(refused)}</p>` : ''}
            <button
              type="submit"
              class="primary"
              ${refused ? html`disabled aria-describedby="approve-why"` : ''}
            >
              ${service.approval?.state === 'failed' ? 'Approve again' : 'Approve'}
            </button>
          </form>`
        : html`<p>The production policies could not be loaded, so the service cannot be approved now.</p>`
    }
    ${
      allows(service, 'reject')
        ? html`<form method="post" action="${reviewPath(service.id)}/reject">
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
          </form>`
        : ''
    }
  </section>`;
}
