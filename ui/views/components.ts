import { html } from 'hono/html';
import type { JwksReport } from '../../credentials/jwks-report.js';
import type { HistoryItem, Service } from '../api-client.js';
import type { Html } from './layout.js';
import { withoutRuleIds } from './plain-language.js';

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
  withdraw: 'Submission withdrawn',
  revoke: 'Revoked by the owner',
  delete: 'Deleted',
  'stage-secret': 'Secret rotation planned',
  'activate-staged-secret': 'Planned secret made live',
  'drop-staged-secret': 'Planned secret dropped',
  // A command whose token did not verify: nothing changed, and "who" is only what it claimed.
  'refused-command': 'Refused command (not from the API)',
};

/** One row of a table: its cells in column order (each gets its column's name for narrow screens). */
export type Row = Html[] | { cells: Html[]; className?: string };

/**
 * A captioned table with column headers: the shape of every list the pages show. It scrolls inside
 * its own box when wider than the page; below 720 px each row is stacked, every cell labelled by
 * its column (the stylesheet's `table.stack`).
 */
export function dataTable(table: {
  className?: string;
  caption: string | Html;
  columns: string[];
  rows: Row[];
  stack?: boolean;
}): Html {
  const classes = [table.className ?? '', table.stack === false ? '' : 'stack'].filter(Boolean).join(' ');
  // A box that may scroll sideways is a named stop for the keyboard (it is scrolled with the arrows).
  const region =
    typeof table.caption === 'string'
      ? html`role="region" aria-label="${table.caption}" tabindex="0"`
      : html``;
  return html`<div class="table-wrap" ${region}>
    <table class="${classes}">
      <caption>
        ${table.caption}
      </caption>
      <thead>
        <tr>
          ${table.columns.map((column) => html`<th scope="col">${column}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${table.rows.map((row) => {
          const { cells, className } = Array.isArray(row) ? { cells: row, className: '' } : row;
          return html`<tr class="${className ?? ''}">
            ${cells.map((cell, i) => html`<td data-label="${table.columns[i] ?? ''}">${cell}</td>`)}
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

export function historyTable(items: HistoryItem[]): Html {
  if (items.length === 0) return html`<p>No history yet.</p>`;
  return dataTable({
    className: 'history',
    caption: 'History',
    columns: ['When', 'What', 'Who', 'Status', 'Revision', 'Reason'],
    rows: items.map((h) => [
      when(h.at),
      html`${ACTION_LABELS[h.action] ?? h.action}`,
      h.action === 'refused-command' ? html`${h.actor} <em>(claimed, unverified)</em>` : html`${h.actor}`,
      html`${h.from && h.from !== h.to ? html`${STATUS_LABELS[h.from]} → ` : ''}${STATUS_LABELS[h.to]}`,
      html`${h.revision}`,
      html`${h.reason ?? ''}`,
    ]),
  });
}

export function scopeList(strings: string[]): Html {
  return html`<ul class="scopes">
    ${strings.map((s) => html`<li><code>${s}</code></li>`)}
  </ul>`;
}

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

type Constants = NonNullable<Service['environments']['sandbox']>;

/** A value with a copy button (the button appears only with JavaScript, which does the copying). */
export function copyable(id: string, value: string, label: string): Html {
  return html`<span class="copyable"
    ><code id="${id}">${value}</code
    ><button type="button" class="copy small" data-copy-target="${id}" aria-label="Copy ${label}" hidden>
      Copy
    </button></span
  >`;
}

/** Pulls access_token out of the token response with sed alone (no jq needed to run the commands). */
const EXTRACT_TOKEN = `sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p'`;

/** Commands that run as pasted once the one placeholder (the secret, or the signed assertion) is filled in. */
export function curlCommands(service: Service, env: Constants): string {
  const scope = service.scopes.strings.join(' ');
  const token =
    service.authMethod.type === 'client_secret'
      ? [
          `# 1. Your client secret (shown once when it was created or rotated)`,
          `CLIENT_SECRET='paste your client secret here'`,
          ``,
          `# 2. Get an access token (client_credentials with HTTP Basic authentication)`,
          `ACCESS_TOKEN=$(curl -s -u "${service.clientId}:$CLIENT_SECRET" \\`,
          `  -d grant_type=client_credentials \\`,
          `  --data-urlencode 'scope=${scope}' \\`,
          `  ${env.tokenUrl} | ${EXTRACT_TOKEN})`,
          `echo "token: \${ACCESS_TOKEN:-none, check the secret}"`,
        ]
      : [
          `# 1. A client assertion: a JWT your service signs with its private key (RS384 or ES384),`,
          `#    iss and sub ${service.clientId}, aud ${env.tokenUrl}, a unique jti, exp within 5 minutes.`,
          `#    How to make one (Node, Python): /portal/guide?service=${service.id}`,
          `#    Check it first with the assertion checker on the service page.`,
          `CLIENT_ASSERTION='paste the signed JWT here'`,
          ``,
          `# 2. Get an access token (client_credentials with private_key_jwt)`,
          `ACCESS_TOKEN=$(curl -s -d grant_type=client_credentials \\`,
          `  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\`,
          `  --data-urlencode "client_assertion=$CLIENT_ASSERTION" \\`,
          `  --data-urlencode 'scope=${scope}' \\`,
          `  ${env.tokenUrl} | ${EXTRACT_TOKEN})`,
          `echo "token: \${ACCESS_TOKEN:-none, check the assertion}"`,
        ];
  const firstType = service.scopes.rules.find((r) => r.resource !== '*')?.resource ?? 'Patient';
  return [
    `# SMART configuration (no token needed)`,
    `curl -s ${env.smartConfigurationUrl}`,
    ``,
    ...token,
    ``,
    `# 3. Call the FHIR API with it`,
    `curl -s -H "Authorization: Bearer $ACCESS_TOKEN" '${env.fhirBaseUrl}/${firstType}?_count=1'`,
    ``,
    `# CapabilityStatement (no token needed)`,
    `curl -s ${env.capabilityStatementUrl}`,
    ...(env.bulkExportKickOffUrl
      ? [
          ``,
          `# Bulk Data export: list your types in _type (without it the export is refused with 403)`,
          `curl -si -H "Authorization: Bearer $ACCESS_TOKEN" \\`,
          `  -H 'Accept: application/fhir+json' -H 'Prefer: respond-async' \\`,
          `  '${env.bulkExportKickOffUrl}'`,
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
  const key = name.toLowerCase();
  return html`<section aria-labelledby="${id}" class="environment">
    <h3 id="${id}">${name}</h3>
    <dl class="constants">
      <dt>Client ID</dt>
      <dd>${copyable(`${key}-client-id`, service.clientId, `${name} client ID`)}</dd>
      <dt>FHIR base URL</dt>
      <dd>${copyable(`${key}-fhir-base`, env.fhirBaseUrl, `${name} FHIR base URL`)}</dd>
      <dt>SMART configuration</dt>
      <dd>
        ${copyable(`${key}-smart-config`, env.smartConfigurationUrl, `${name} SMART configuration URL`)}
      </dd>
      <dt>Token URL</dt>
      <dd>${copyable(`${key}-token-url`, env.tokenUrl, `${name} token URL`)}</dd>
      <dt>CapabilityStatement</dt>
      <dd>${copyable(`${key}-metadata`, env.capabilityStatementUrl, `${name} CapabilityStatement URL`)}</dd>
      <dt>Scope to request</dt>
      <dd>
        ${copyable(`${key}-scope`, env.scope, `${name} scope`)}
        <p class="hint">
          Request exactly your registered scopes. A wider request (such as <code>system/*.rs</code>) is
          narrowed to them, and the token's <code>scope</code> says what was granted.
        </p>
      </dd>
      ${
        env.bulkExportKickOffUrl
          ? html`<dt>Bulk Data export kick-off</dt>
              <dd>
                ${copyable(`${key}-export`, env.bulkExportKickOffUrl, `${name} Bulk Data kick-off URL`)}
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
      <summary>Ready-to-paste curl commands (${key})</summary>
      <p class="hint">
        Fill in the one placeholder, then paste the whole block into a shell.
        <a href="/portal/guide?service=${encodeURIComponent(service.id)}">Get a token: the full guide</a>
        (Node and Python too).
      </p>
      <div class="buttons">
        <button type="button" class="copy small" data-copy-target="${key}-curl" hidden>
          Copy the commands
        </button>
      </div>
      <pre tabindex="0"><code id="${key}-curl">${curlCommands(service, env)}</code></pre>
    </details>
  </section>`;
}

/** Why there are no production constants, in the service's own terms. */
export function productionAbsence(service: Service): string {
  if (service.rejection?.kind === 'deactivated')
    return 'None: the service is deactivated and production no longer accepts its client.';
  if (service.rejection?.kind === 'revoked-by-owner')
    return 'None: the service is revoked and production no longer accepts its client.';
  if (service.approval?.state === 'provisioning')
    return 'Production is being set up: the URLs appear here when it is ready (this page updates by itself).';
  if (service.status === 'rejected') return 'None: the service was declined at review. Edit it and resubmit.';
  if (service.status === 'under_review')
    return 'Production URLs appear once the service is approved and live.';
  return 'Production URLs appear once the service is submitted, approved and live.';
}

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
