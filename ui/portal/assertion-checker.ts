import { randomUUID } from 'node:crypto';
import { html } from 'hono/html';
import type { AssertionCheckAnswer, Service } from '../api-client.js';
import type { PageContext } from '../handler.js';
import { csrfField, type Html } from '../views/layout.js';
import { withoutRuleIds } from '../views/plain-language.js';
import { dataTable } from '../views/tables.js';
import { servicePath } from './paths.js';

/** The assertion checker's checks, named for people. */
const CHECK_LABELS: Record<string, string> = {
  client: 'Client known to this environment',
  format: 'Is a signed JWT',
  alg: 'Signing algorithm',
  kid: 'Key ID (kid)',
  typ: 'Token type (typ)',
  jku: 'Key set URL (jku)',
  iss: 'Issuer (iss)',
  sub: 'Subject (sub)',
  aud: 'Audience (aud)',
  exp: 'Expiry (exp)',
  jti: 'Unique ID (jti)',
  key: 'Key in your JWKS',
  signature: 'Signature',
};

export function assertionChecker(
  ctx: PageContext,
  service: Service,
  check?: AssertionCheckAnswer,
  assertion = '',
): Html {
  const id = service.id;
  return html`<section aria-labelledby="check-h">
    <h2 id="check-h">Assertion checker</h2>
    <p class="hint">
      Paste a client assertion your service signed: each check of the token endpoint is shown. The assertion
      is not used up.
      <a href="/portal/guide?service=${encodeURIComponent(service.id)}#assertion">How to make one</a>.
    </p>
    <form method="post" action="${servicePath(id)}/assertion-check">
      ${csrfField(ctx.csrf)}
      <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
      <label for="check-env">Environment</label>
      <select id="check-env" name="environment">
        <option value="sandbox">Sandbox</option>
        <option value="production" ${service.status === 'active' ? 'selected' : ''}>Production</option>
      </select>
      <label for="check-assertion">Client assertion (JWT)</label>
      <textarea id="check-assertion" name="clientAssertion" rows="4" required spellcheck="false">
${assertion}</textarea>
      <div class="buttons"><button type="submit">Check assertion</button></div>
    </form>
    ${
      check
        ? html`<div
            id="check-result"
            data-canonical-url="${servicePath(service.id)}"
            class="${check.accepted ? 'notice' : 'error-box'}"
            role="status"
            tabindex="-1"
            autofocus
          >
            <p><strong>${check.accepted ? 'Accepted' : 'Not accepted'}</strong> by ${check.tokenUrl}</p>
            ${dataTable({
              caption: 'Checks',
              columns: ['Check', 'Result', 'Expected', 'Found', 'What it means'],
              rows: check.checks.map((k) => [
                html`${CHECK_LABELS[k.id] ?? k.id}`,
                html`<span class="${k.status === 'failed' ? 'bad' : k.status === 'passed' ? 'ok' : ''}"
                  >${k.status}</span
                >`,
                html`${k.expected}`,
                html`${k.found}`,
                html`${withoutRuleIds(k.message)}`,
              ]),
            })}
            <p class="hint">${withoutRuleIds(check.note)}</p>
          </div>`
        : ''
    }
  </section>`;
}
