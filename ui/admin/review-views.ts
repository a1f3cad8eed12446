import { html } from 'hono/html';
import { parseScope } from '../../scopes/parse.js';
import { scopeRiskFlags } from '../../scopes/risk.js';
import type { ProductionPolicies, Service } from '../api-client.js';
import { scopeList, when } from '../views/format.js';
import type { Html } from '../views/layout.js';
import { withoutRuleIds } from '../views/plain-language.js';

/** What a reviewer weighs: risk flags, the scopes in both notations, the credentials, the derived policies. */

/** Risk flags computed here only for a service never submitted (the API derives them at submission). */
export function localRisks(service: Service): ProductionPolicies['riskFlags'] {
  return scopeRiskFlags(
    service.scopes.strings.map((s) => parseScope(s)).flatMap((r) => (r.ok ? [r.scope] : [])),
  );
}

const SEVERITY_ORDER = ['high', 'medium', 'low'] as const;

/** The queue's one-word risk: the highest severity among the flags. */
export function riskLevel(flags: ProductionPolicies['riskFlags']): Html {
  const top = SEVERITY_ORDER.find((level) => flags.some((f) => f.severity === level));
  if (!top) return html`<span class="ok">Low: named types, read only</span>`;
  const count = flags.filter((f) => f.severity === top).length;
  return html`<span class="risk-${top}">${top[0]!.toUpperCase() + top.slice(1)}</span>
    <span class="hint"
      >(${flags.length}
      flag${flags.length === 1 ? '' : 's'}${count < flags.length ? `, ${count} ${top}` : ''})</span
    >`;
}

export function riskList(flags: ProductionPolicies['riskFlags']): Html {
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

export function scopesWithNotation(service: Service): Html {
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

export function credentialsWord(service: Service): string {
  return service.credentials.state === 'valid'
    ? 'valid'
    : service.credentials.state === 'pending'
      ? 'being checked'
      : 'invalid (see the JWKS report)';
}

export function productionPoliciesView(
  submitted: ProductionPolicies | null,
  unavailable: string | null,
): Html {
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
