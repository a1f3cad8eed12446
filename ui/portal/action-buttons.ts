import { randomUUID } from 'node:crypto';
import { html } from 'hono/html';
import { allows } from '../allowed-actions.js';
import type { ServiceAction, ServiceDetail } from '../api-client.js';
import type { PageContext } from '../handler.js';
import { csrfField, type Html } from '../views/layout.js';
import { oneButton } from './one-button.js';
import { servicePath } from './paths.js';

/**
 * The service page's buttons. Each appears only when the API allows that command now
 * (ui/allowed-actions.ts); the page decides only how it looks: a live service is changed through
 * its pending change (whose section has its own buttons), and Submit waits for valid credentials.
 */
export function actionButtons(ctx: PageContext, service: ServiceDetail): Html {
  const id = service.id;
  const path = servicePath(id);
  const can = (action: ServiceAction) => allows(service, action);
  // The registration's own controls: a draft, or a service declined at review.
  const ownRegistration = can('edit') && service.status !== 'active';
  const submitShown = ownRegistration && can('submit');
  const canSubmit = submitShown && service.credentials.state === 'valid';
  const why =
    service.credentials.state === 'invalid'
      ? 'Submit is disabled: the JWKS does not pass validation (see the JWKS report). Fix the document at your JWKS URI, then check it again, or edit the URI.'
      : service.credentials.state === 'pending'
        ? 'Submit is available once the JWKS check finishes; this page updates by itself.'
        : '';
  const parts: Html[] = [];
  if (submitShown) {
    parts.push(
      canSubmit
        ? html`<a class="button primary" href="${path}/submit"
            >${service.status === 'rejected' ? 'Resubmit for Review' : 'Submit for Review'}</a
          >`
        : html`<button type="button" class="primary" disabled aria-describedby="submit-why">
            ${service.status === 'rejected' ? 'Resubmit for Review' : 'Submit for Review'}
          </button>`,
    );
  }
  if (ownRegistration) parts.push(html`<a class="button" href="${path}/edit">Edit</a>`);
  if (ownRegistration && can('recheckCredentials') && service.credentials.state !== 'valid') {
    parts.push(
      html`<form method="post" action="${path}/recheck">
        ${csrfField(ctx.csrf)}
        <input type="hidden" name="revision" value="${service.revision}" />
        <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
        <button type="submit">Check the JWKS again</button>
      </form>`,
    );
  }
  if (can('rotateSecret')) parts.push(html`<a class="button" href="${path}/rotate">Rotate secret</a>`);
  // A change under review is withdrawn from its own section.
  if (can('withdraw') && service.status === 'under_review')
    parts.push(oneButton(ctx, `${path}/withdraw`, 'Withdraw submission'));
  if (can('edit') && service.status === 'active' && !service.pendingChange)
    parts.push(html`<a class="button" href="${path}/edit">Change this service</a>`);
  if (can('delete')) parts.push(html`<a class="button" href="${path}/delete">Delete</a>`);
  if (can('revoke')) parts.push(html`<a class="button danger" href="${path}/revoke">Revoke now</a>`);
  if (parts.length === 0) return html``;
  return html`<div class="buttons actions">${parts}</div>
    ${why && submitShown ? html`<p class="field-error" id="submit-why">${why}</p>` : ''}`;
}
