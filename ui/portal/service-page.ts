import { html } from 'hono/html';
import type { AssertionCheckAnswer, Service } from '../api-client.js';
import { problemPage, type PageContext } from '../handler.js';
import { organizationLabel, organizationName } from '../organizations.js';
import { environmentView, copyable, productionAbsence } from '../views/environment.js';
import { authMethodLabel, scopeList, statusBadge, when } from '../views/format.js';
import { jwksReportView } from '../views/jwks-report.js';
import type { Html } from '../views/layout.js';
import { withoutRuleIds } from '../views/plain-language.js';
import { approvalView, credentialHealthView, rejectionView, waitingState } from '../views/service-state.js';
import { historyTable } from '../views/tables.js';
import { assertionChecker } from './assertion-checker.js';
import { NOTICE_HOLDS, NOTICES } from './notices.js';
import { stagedSecretView } from './owner-actions.js';
import { actionButtons } from './action-buttons.js';
import { servicePath } from './paths.js';
import { pendingChangeView } from './pending-change.js';
import type { PortalDeps } from './routes.js';

/**
 * A service's page: where it stands, what its owner may do next, its details and JWKS report, the
 * environment constants, the assertion checker and its history. Actions that fail come back here
 * with the refusal in words.
 */
export async function servicePage(
  ctx: PageContext,
  deps: PortalDeps,
  id: string,
  extra: {
    notice?: string | null;
    error?: string | null;
    status?: number;
    check?: AssertionCheckAnswer;
    /** The assertion just checked, kept in the field so it can be fixed and checked again. */
    assertion?: string;
  } = {},
) {
  const answer = await ctx.api.get(id);
  if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
  const service = answer.body;
  const [history, report] = await Promise.all([
    ctx.api.history(id),
    service.authMethod.type === 'jwks_uri' ? ctx.api.jwksReport(id) : Promise.resolve(null),
  ]);
  const historyItems = history.ok ? history.body.items : [];
  const jwks = report && report.ok ? report.body.report : null;
  const noticeKey = ctx.takeNotice();
  const notice =
    extra.notice ??
    (noticeKey && (NOTICE_HOLDS[noticeKey]?.(service) ?? true) ? (NOTICES[noticeKey] ?? null) : null);
  const orgName =
    deps.orgbac && service.organizationId ? await organizationName(ctx, service.organizationId) : null;
  const waiting = waitingState(service);
  return ctx.render(
    service.name,
    'portal',
    html`<p><a href="/portal">← Dashboard</a></p>
      <h1>${service.name} ${statusBadge(service.status)}</h1>
      ${rejectionView(service)} ${approvalView(service)} ${actionButtons(ctx, service)}
      ${stagedSecretView(ctx, service)} ${pendingChangeView(ctx, service)}
      <section aria-labelledby="details-h">
        <h2 id="details-h">Details</h2>
        <dl class="constants">
          <dt>Client ID</dt>
          <dd>${copyable('client-id', service.clientId, 'client ID')}</dd>
          <dt>Description</dt>
          <dd>${service.description || '—'}</dd>
          <dt>Contact</dt>
          <dd>${service.contactEmail}</dd>
          <dt>Authentication</dt>
          <dd>
            ${authMethodLabel(service)}${
              service.authMethod.type === 'jwks_uri'
                ? html`: <code>${service.authMethod.jwksUri}</code>`
                : html` (secret fingerprint <code>${service.credentials.secret?.fingerprint ?? '—'}</code>,
                    version ${service.credentials.secret?.version ?? '—'})`
            }
          </dd>
          <dt>Credentials</dt>
          <dd>
            ${credentialsText(service)}${service.credentials.checkedAt ? html`, checked ${when(service.credentials.checkedAt)}` : ''}
          </dd>
          ${credentialHealthView(service)}
          <dt>Scopes (${service.scopes.version})</dt>
          <dd>${scopeList(service.scopes.strings)}</dd>
          ${
            deps.orgbac
              ? html`<dt>Organization</dt>
                  <dd>${organizationLabel(service.organizationId, orgName)}</dd>`
              : ''
          }
          <dt>Revision</dt>
          <dd>${service.revision}</dd>
        </dl>
      </section>
      ${service.authMethod.type === 'jwks_uri' ? jwksReportView(jwks, service.credentials.state) : ''}
      <section aria-labelledby="env-h">
        <h2 id="env-h">Environment constants</h2>
        <p class="hint">
          <a href="/portal/guide?service=${encodeURIComponent(service.id)}">Get a token with these values</a>
          (curl, Node, Python).
        </p>
        ${environmentView('Sandbox', service, service.environments.sandbox, service.environments.sandboxReason ?? 'No sandbox client.')}
        ${environmentView('Production', service, service.environments.production, productionAbsence(service))}
      </section>
      ${service.authMethod.type === 'jwks_uri' && service.status !== 'rejected' ? assertionChecker(ctx, service, extra.check, extra.assertion) : ''}
      <section aria-labelledby="history-h">
        <h2 id="history-h">Status history</h2>
        ${historyTable(historyItems)}
      </section>`,
    {
      notice,
      error: extra.error ? withoutRuleIds(extra.error) : null,
      status: extra.status ?? 200,
      waiting: waiting ? { url: servicePath(service.id), state: waiting } : null,
    },
  );
}

function credentialsText(service: Service): Html {
  const state = service.credentials.state;
  if (state === 'valid') return html`<span class="ok">Valid</span>`;
  if (state === 'pending') return html`<span class="badge badge-info">Checking</span>`;
  return html`<span class="bad">Invalid: see the JWKS report</span>`;
}
