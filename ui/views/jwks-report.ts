import { html } from 'hono/html';
import type { JwksReport, Service } from '../api-client.js';
import { when } from './format.js';
import type { Html } from './layout.js';
import { withoutRuleIds } from './plain-language.js';

/** The JWKS report, key by key, as the portal and the review page show it. */

export function jwksReportView(report: JwksReport | null, state: Service['credentials']['state']): Html {
  if (state === 'pending' && !report)
    return html`<p role="status" class="status-line">
      <span class="badge badge-info">Checking</span> The JWKS is being fetched and checked. This page updates
      by itself.
    </p>`;
  if (!report) return html`<p>No JWKS report yet.</p>`;
  const failing = report.keys.flatMap((key) => key.checks.filter((check) => !check.passed));
  return html`<section class="jwks-report" aria-labelledby="jwks-report-h">
    <h3 id="jwks-report-h">JWKS report</h3>
    ${
      state === 'pending'
        ? html`<p role="status" class="status-line">
            <span class="badge badge-info">Checking</span> The JWKS is being checked again; this is the
            previous report. This page updates by itself.
          </p>`
        : ''
    }
    <p class="${report.valid ? 'ok' : 'bad'}">
      <strong>${report.valid ? 'Valid' : 'Invalid'}:</strong> ${withoutRuleIds(report.summary)}
    </p>
    <p>
      Checked ${when(report.checkedAt)} at <code>${report.jwksUri ?? ''}</code>${
        report.fetch ? html` (HTTP ${report.fetch.status}, ${report.fetch.bytes} bytes)` : ''
      }
    </p>
    ${
      report.findings.length > 0
        ? html`<ul class="findings">
            ${report.findings.map(
              (f) =>
                html`<li class="${f.severity}">
                  ${f.severity === 'error' ? 'Error' : 'Warning'}: ${withoutRuleIds(f.message)}
                </li>`,
            )}
          </ul>`
        : ''
    }
    ${report.keys.map(
      (key) =>
        html`<article class="key key-${key.status}">
          <h4>
            Key ${key.index + 1}: <code>${key.kid ?? '(no kid)'}</code> —
            ${KEY_STATUS[key.status] ?? key.status}
          </h4>
          <p>
            ${key.kty ?? '?'}${key.alg ? html` · ${key.alg}` : ''}${key.size ? html` · ${key.size} bits` : ''}${
              key.curve ? html` · ${key.curve}` : ''
            }${key.usableAlgorithms.length ? html` · signs ${key.usableAlgorithms.join(', ')}` : ''}
          </p>
          <ul>
            ${key.checks
              .filter((check) => !check.passed)
              .map((check) => html`<li class="${check.severity}">${withoutRuleIds(check.message)}</li>`)}
          </ul>
          ${key.checks.every((check) => check.passed) ? html`<p class="ok">Every check passed.</p>` : ''}
        </article>`,
    )}
    ${
      failing.length || !report.valid
        ? html`<p class="hint">
            How to publish a key that passes: <a href="/portal/guide#keys">Get a token: your key pair</a>.
          </p>`
        : ''
    }
  </section>`;
}

const KEY_STATUS: Record<string, string> = {
  usable: 'usable',
  ignored: 'not used by the token endpoint',
  rejected: 'refused: it breaks a rule, see below',
};
