import { html } from 'hono/html';
import type { JwksReport } from '../../credentials/jwks-report.js';
import type { HistoryItem, Service } from '../api-client.js';
import type { Html } from './layout.js';

/** Pieces shared by the portal and the review UI. */

export const STATUS_LABELS: Record<Service['status'], string> = {
  draft: 'Draft',
  under_review: 'Under Review',
  active: 'Active',
  rejected: 'Rejected',
};

export function statusBadge(status: Service['status']): Html {
  return html`<span class="badge badge-${status}">${STATUS_LABELS[status]}</span>`;
}

/** Absolute UTC time, readable and unambiguous for people in different time zones. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`—`;
  const text = new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  return html`<time datetime="${iso}">${text}</time>`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

export const authMethodLabel = (service: Pick<Service, 'authMethod'>) =>
  service.authMethod.type === 'jwks_uri' ? 'JWKS URI (private_key_jwt)' : 'Client secret';

const ACTION_LABELS: Record<string, string> = {
  create: 'Registered',
  edit: 'Edited',
  submit: 'Submitted for review',
  approve: 'Approved (production being set up)',
  'approval-completed': 'Live in production',
  'approval-failed': 'Production setup failed',
  reject: 'Rejected at review',
  deactivate: 'Deactivated',
  'rotate-secret': 'Secret rotated',
  // A command whose token did not verify: nothing changed, and "who" is only what it claimed.
  'refused-command': 'Refused command (not from the API)',
};

/** A captioned table with column headers: the shape of every list the pages show. */
export function dataTable(table: {
  className?: string;
  caption: string | Html;
  columns: string[];
  rows: Html[];
}): Html {
  return html`<table class="${table.className ?? ''}">
    <caption>
      ${table.caption}
    </caption>
    <thead>
      <tr>
        ${table.columns.map((column) => html`<th scope="col">${column}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${table.rows}
    </tbody>
  </table>`;
}

export function historyTable(items: HistoryItem[]): Html {
  if (items.length === 0) return html`<p>No history yet.</p>`;
  return dataTable({
    className: 'history',
    caption: 'History',
    columns: ['When', 'What', 'Who', 'Status', 'Revision', 'Reason'],
    rows: items.map(
      (h) =>
        html`<tr>
          <td>${when(h.at)}</td>
          <td>${ACTION_LABELS[h.action] ?? h.action}</td>
          <td>
            ${h.action === 'refused-command' ? html`${h.actor} <em>(claimed, unverified)</em>` : h.actor}
          </td>
          <td>${h.from && h.from !== h.to ? html`${STATUS_LABELS[h.from]} → ` : ''}${STATUS_LABELS[h.to]}</td>
          <td>${h.revision}</td>
          <td>${h.reason ?? ''}</td>
        </tr>`,
    ),
  });
}

export function scopeList(strings: string[]): Html {
  return html`<ul class="scopes">
    ${strings.map((s) => html`<li><code>${s}</code></li>`)}
  </ul>`;
}

export function jwksReportView(report: JwksReport | null, state: Service['credentials']['state']): Html {
  if (state === 'pending' && !report)
    return html`<p role="status">The JWKS is being fetched and checked. Reload in a moment.</p>`;
  if (!report) return html`<p>No JWKS report yet.</p>`;
  return html`<section class="jwks-report" aria-labelledby="jwks-report-h">
    <h3 id="jwks-report-h">JWKS report</h3>
    ${state === 'pending' ? html`<p role="status">The JWKS is being checked again; this is the previous report. Reload in a moment.</p>` : ''}
    <p class="${report.valid ? 'ok' : 'bad'}">
      <strong>${report.valid ? 'Valid' : 'Invalid'}:</strong> ${report.summary}
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
                  ${f.severity === 'error' ? 'Error' : 'Warning'} (${f.rule}): ${f.message}
                </li>`,
            )}
          </ul>`
        : ''
    }
    ${report.keys.map(
      (key) =>
        html`<article class="key key-${key.status}">
          <h4>Key ${key.index + 1}: <code>${key.kid ?? '(no kid)'}</code> — ${key.status}</h4>
          <p>
            ${key.kty ?? '?'}${key.alg ? html` · ${key.alg}` : ''}${key.size ? html` · ${key.size} bits` : ''}${
              key.curve ? html` · ${key.curve}` : ''
            }${key.usableAlgorithms.length ? html` · signs ${key.usableAlgorithms.join(', ')}` : ''}
          </p>
          <ul>
            ${key.checks
              .filter((check) => !check.passed)
              .map((check) => html`<li class="${check.severity}">${check.rule}: ${check.message}</li>`)}
          </ul>
          ${key.checks.every((check) => check.passed) ? html`<p class="ok">Every check passed.</p>` : ''}
        </article>`,
    )}
  </section>`;
}

type Constants = NonNullable<Service['environments']['sandbox']>;

function curlCommands(service: Service, env: Constants): string {
  const scope = service.scopes.strings.join(' ');
  const token =
    service.authMethod.type === 'client_secret'
      ? `curl -s -u '${service.clientId}:<your client secret>' \\\n  -d grant_type=client_credentials \\\n  --data-urlencode 'scope=${scope}' \\\n  ${env.tokenUrl}`
      : `curl -s -d grant_type=client_credentials \\\n  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\\n  --data-urlencode "client_assertion=$CLIENT_ASSERTION" \\\n  --data-urlencode 'scope=${scope}' \\\n  ${env.tokenUrl}`;
  const firstType = service.scopes.rules.find((r) => r.resource !== '*')?.resource ?? 'Patient';
  return [
    `# SMART configuration`,
    `curl -s ${env.smartConfigurationUrl}`,
    ``,
    `# Access token (client_credentials)`,
    token,
    ``,
    `# Call the FHIR API with it`,
    `curl -s -H "Authorization: Bearer $ACCESS_TOKEN" ${env.fhirBaseUrl}/${firstType}`,
    ``,
    `# CapabilityStatement`,
    `curl -s ${env.capabilityStatementUrl}`,
    ...(env.bulkExportKickOffUrl
      ? [
          ``,
          `# Bulk Data export: list your types in _type (without it the export is refused with 403)`,
          `curl -si -H "Authorization: Bearer $ACCESS_TOKEN" \\\n  -H 'Accept: application/fhir+json' -H 'Prefer: respond-async' \\\n  '${env.bulkExportKickOffUrl}'`,
          `# then poll the Content-Location it returns (202 until done, then the manifest) with the same token;`,
          `# the files need that token too (requiresAccessToken: true)`,
        ]
      : []),
  ].join('\n');
}

export function environmentView(
  name: 'Sandbox' | 'Production',
  service: Service,
  env: Constants | null,
  absent: string,
): Html {
  const id = `env-${name.toLowerCase()}`;
  if (!env)
    return html`<section aria-labelledby="${id}">
      <h3 id="${id}">${name}</h3>
      <p>${absent}</p>
    </section>`;
  return html`<section aria-labelledby="${id}" class="environment">
    <h3 id="${id}">${name}</h3>
    <dl class="constants">
      <dt>Client ID</dt>
      <dd><code>${service.clientId}</code></dd>
      <dt>FHIR base URL</dt>
      <dd><code>${env.fhirBaseUrl}</code></dd>
      <dt>SMART configuration</dt>
      <dd><code>${env.smartConfigurationUrl}</code></dd>
      <dt>Token URL</dt>
      <dd><code>${env.tokenUrl}</code></dd>
      <dt>CapabilityStatement</dt>
      <dd><code>${env.capabilityStatementUrl}</code></dd>
      <dt>Scope to request</dt>
      <dd>
        <code>${env.scope}</code>
        <p class="hint">
          Request exactly your registered scopes. A wider request (such as <code>system/*.rs</code>) is
          narrowed to them, and the token's <code>scope</code> says what was granted.
        </p>
      </dd>
      ${
        env.bulkExportKickOffUrl
          ? html`<dt>Bulk Data export kick-off</dt>
              <dd>
                <code>${env.bulkExportKickOffUrl}</code>
                <p class="hint">
                  ${
                    env.bulkExportKickOffUrl.includes('_type=')
                      ? html`Always send <code>_type</code> with your types: a kick-off without it would
                          export every type and is refused (403), although the Bulk Data IG lets servers
                          export everything by default.`
                      : html`Your scopes read and search every type, so <code>_type</code> may be left out.`
                  }
                  Send <code>Prefer: respond-async</code> and <code>Accept: application/fhir+json</code>.
                </p>
              </dd>`
          : ''
      }
    </dl>
    <details>
      <summary>Ready-to-paste curl commands (${name.toLowerCase()})</summary>
      <pre><code>${curlCommands(service, env)}</code></pre>
    </details>
  </section>`;
}

export function approvalView(service: Service): Html {
  const approval = service.approval;
  if (!approval) return html``;
  const error = approval.lastError;
  const reason = error
    ? `last error: ${error.operation} in ${error.environment} failed (${error.kind}${error.status ? ` ${error.status}` : ''}) at ${error.at}`
    : 'no error so far';
  if (approval.state === 'failed')
    return html`<div class="error-box" role="alert">
      <strong>Approval failed:</strong> production could not be set up after ${approval.attempts} attempts;
      ${reason}. An administrator may approve again or reject.
    </div>`;
  return html`<div class="notice" role="status">
    <strong>Approval in progress:</strong> approved by ${approval.by} ${when(approval.at)}; production is
    being set up (${approval.attempts} failed attempts; ${reason}).
  </div>`;
}

export function rejectionView(service: Service): Html {
  const r = service.rejection;
  if (!r) return html``;
  return r.kind === 'deactivated'
    ? html`<div class="error-box" role="alert">
        <strong>Deactivated</strong> by ${r.by} ${when(r.at)}. Reason:
        <span class="reason">${r.reason}</span>. This is final; production no longer accepts this client.
      </div>`
    : html`<div class="error-box" role="alert">
        <strong>Rejected at review</strong> by ${r.by} ${when(r.at)}. Reason:
        <span class="reason">${r.reason}</span>
      </div>`;
}
