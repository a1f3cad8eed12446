import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import { when } from './format.js';
import type { Html } from './layout.js';

/** Where a service stands beyond its status: an approval being carried out, a rejection, work in progress. */

export function approvalView(service: Service): Html {
  const approval = service.approval;
  if (!approval) return html``;
  const error = approval.lastError;
  const reason = error
    ? html`the last attempt failed (${error.operation} in ${error.environment}:
      ${error.kind}${error.status ? ` ${error.status}` : ''}, ${when(error.at)})`
    : html`no error so far`;
  if (approval.state === 'failed')
    return html`<div class="error-box" role="alert">
      <strong>Approval failed:</strong> production could not be set up after ${approval.attempts} attempts;
      ${reason}. An administrator may approve again or reject.
    </div>`;
  return html`<div class="notice" role="status">
    <strong>Approved — production is being set up.</strong> Approved by ${approval.by} ${when(approval.at)}.
    ${approval.attempts > 0 ? html`${approval.attempts} attempts so far; ${reason}. ` : ''}This page updates
    by itself when the service is live.
  </div>`;
}

export function rejectionView(service: Service): Html {
  const r = service.rejection;
  if (!r) return html``;
  const reason = html`<q class="reason">${r.reason.trim()}</q>`;
  if (r.kind === 'deactivated')
    return html`<div class="error-box" role="alert">
      <p><strong>Deactivated</strong> by ${r.by} ${when(r.at)}. Reason: ${reason}</p>
      <p>This is final: production no longer accepts this client.</p>
    </div>`;
  if (r.kind === 'revoked-by-owner')
    return html`<div class="error-box" role="alert">
      <p><strong>Revoked</strong> by ${r.by} ${when(r.at)}. Reason: ${reason}</p>
      <p>This is final: production no longer accepts this client and its tokens stopped working.</p>
    </div>`;
  return html`<div class="error-box" role="alert">
    <p><strong>Rejected at review</strong> by ${r.by} ${when(r.at)}. Reason: ${reason}</p>
    <p>Edit the service and resubmit it, or delete it.</p>
  </div>`;
}

/** A service waiting on background work, and what of it the page shows (changes when the work moves on). */
export function waitingState(service: Service): string | null {
  const parts: string[] = [];
  if (service.credentials.state === 'pending') parts.push('credentials-pending');
  if (service.approval?.state === 'provisioning') parts.push(`approval-${service.approval.attempts}`);
  // Valid credentials and not yet a sandbox client: it is being provisioned (api/services/present.ts).
  if (
    !service.environments.sandbox &&
    service.credentials.state === 'valid' &&
    service.status !== 'rejected' &&
    !service.deletedAt
  )
    parts.push('sandbox-pending');
  // Deactivated or revoked: production is cut off first, then the sandbox client is removed; until
  // that last step the sandbox constants are still there (api/services/present.ts).
  if (
    (service.rejection?.kind === 'deactivated' || service.rejection?.kind === 'revoked-by-owner') &&
    service.environments.sandbox
  )
    parts.push('cleanup-pending');
  return parts.length ? `${service.status}:${service.revision}:${parts.join(',')}` : null;
}

/** A live JWKS service's scheduled key-set check, in words. */
export function credentialHealthView(service: Service): Html {
  const health = service.credentials.health;
  if (!health) return html``;
  return html`<dt>Key set check</dt>
    <dd>
      ${health.state === 'ok' ? html`<span class="badge ok">Passing</span>` : html`<span class="badge danger">Failing</span>`}
      since
      ${when(health.since)}${health.lastCheckedAt ? html`; last checked ${when(health.lastCheckedAt)}` : ''};
      next ${when(health.nextCheckAt)}.
      ${health.state === 'failing' && health.summary ? html`<br />${health.summary} The service stays active: fix the key server, or check again after fixing it.` : ''}
      ${
        health.changes.length
          ? html`<ul>
              ${health.changes.map((c) => html`<li>${c.message}</li>`)}
            </ul>`
          : ''
      }
    </dd>`;
}
