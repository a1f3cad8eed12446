import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import type { Html } from './layout.js';

/** A service's environment constants (sandbox, production) and the commands that use them. */

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
