import { html } from 'hono/html';
import type { Organization } from '../api-client.js';
import { described, errorsFor, type FieldErrors } from './field-errors.js';
import { csrfField, type Html } from './layout.js';
import { FIELD_LABELS } from './plain-language.js';
import type { FormState } from './registration-state.js';
import { scopeBuilder } from './scope-builder.js';

/**
 * The register and edit form: details, authentication method, the scope builder and (OrgBAC) the
 * Organization. Without JavaScript everything works by posting the form: "Preview scopes" and
 * "Add a row" re-render it server-side; portal.js only makes the preview live and adds rows in place.
 */
export interface FormOptions {
  mode: 'create' | 'edit';
  action: string;
  csrf: string;
  orgbac: boolean;
  organizations: Organization[];
  organizationsError?: string | null;
  errors: FieldErrors;
  /** Show the scope preview (after "Preview scopes" or a refused submit). */
  preview: boolean;
}

export function registrationForm(form: FormState, o: FormOptions): Html {
  const e = o.errors;
  const general = e.get('general');
  const fieldKeys = [...e.keys()].filter((key) => key !== 'general');
  return html`<form method="post" action="${o.action}" class="registration" novalidate>
    ${csrfField(o.csrf)}
    <input type="hidden" name="idempotencyKey" value="${form.idempotencyKey}" />
    ${form.revision ? html`<input type="hidden" name="revision" value="${form.revision}" />` : ''}
    <!-- First submit button in the form, so Enter in a text field saves (not "Add a row"). -->
    <button type="submit" name="intent" value="save" class="default-submit" tabindex="-1" aria-hidden="true">
      ${o.mode === 'create' ? 'Create' : 'Save changes'}
    </button>
    ${
      e.size > 0
        ? html`<div class="error-box" role="alert" id="form-errors" tabindex="-1" autofocus>
            <h2>
              The service was not ${o.mode === 'create' ? 'created' : 'saved'}:
              ${e.size === 1 ? 'one thing to fix' : `${[...e.values()].flat().length} things to fix`}
            </h2>
            <ul>
              ${fieldKeys.flatMap((key) =>
                (e.get(key) ?? []).map(
                  (m) => html`<li><a href="#${anchorOf(key)}">${labelFor(key)}: ${m}</a></li>`,
                ),
              )}
              ${(general ?? []).map((m) => html`<li>${m}</li>`)}
            </ul>
          </div>`
        : ''
    }

    <fieldset>
      <legend>Service details</legend>
      <label for="name">Name</label>
      <input id="name" name="name" value="${form.name}" required maxlength="200" ${described(e, 'name')} />
      ${errorsFor(e, 'name')}
      <label for="description">Description</label>
      <textarea id="description" name="description" rows="3" maxlength="4000" ${described(e, 'description')}>
${form.description}</textarea>
      ${errorsFor(e, 'description')}
      <label for="contactEmail">Contact e-mail</label>
      <input
        id="contactEmail"
        name="contactEmail"
        type="email"
        value="${form.contactEmail}"
        required
        ${described(e, 'contactEmail')}
      />
      ${errorsFor(e, 'contactEmail')}
    </fieldset>

    <fieldset>
      <legend>Authentication method</legend>
      ${
        o.mode === 'edit'
          ? html`<input type="hidden" name="authType" value="${form.authType}" />
              <p>
                ${form.authType === 'jwks_uri' ? 'JWKS URI (private_key_jwt)' : 'Client secret'}. The method
                cannot change; register a new service to use the other one.
              </p>`
          : html`<div class="choice">
                <input
                  type="radio"
                  id="auth-jwks"
                  name="authType"
                  value="jwks_uri"
                  ${form.authType === 'jwks_uri' ? 'checked' : ''}
                />
                <label for="auth-jwks">JWKS URI</label>
                <p class="hint">
                  Host a public JWKS; your service signs a private_key_jwt assertion. The SMART Backend
                  Services method, required for ONC (g)(10) / certified bulk data.
                </p>
              </div>
              <div class="choice">
                <input
                  type="radio"
                  id="auth-secret"
                  name="authType"
                  value="client_secret"
                  ${form.authType === 'client_secret' ? 'checked' : ''}
                  aria-describedby="secret-note"
                />
                <label for="auth-secret">Client secret</label>
                <p class="hint warning" id="secret-note">
                  The portal generates a client secret, shown once. Simpler, but
                  <strong>not SMART Backend Services / (g)(10) compliant</strong>.
                </p>
              </div>`
      }
      ${errorsFor(e, 'authType')}
      ${
        form.authType === 'jwks_uri' || o.mode === 'create'
          ? html`<div data-auth="jwks_uri">
              <label for="jwksUri">JWKS URI</label>
              <input
                id="jwksUri"
                name="jwksUri"
                type="url"
                value="${form.jwksUri}"
                placeholder="https://example.com/.well-known/jwks.json"
                ${described(e, 'jwksUri', 'jwks-hint')}
              />
              <p class="hint" id="jwks-hint">Required for the JWKS URI method. HTTPS, publicly reachable.</p>
              ${errorsFor(e, 'jwksUri')}
            </div>`
          : ''
      }
    </fieldset>
    ${scopeBuilder(form, e, o.preview)}
    ${
      o.orgbac
        ? html`<fieldset>
            <legend>Organization</legend>
            <label for="organizationId">Organization whose data the service may access</label>
            <select id="organizationId" name="organizationId" ${described(e, 'organizationId')}>
              <option value="">Choose an Organization</option>
              ${o.organizations.map(
                (org) =>
                  html`<option value="${org.id}" ${org.id === form.organizationId ? 'selected' : ''}>
                    ${org.name ?? org.id} (${org.id})
                  </option>`,
              )}
            </select>
            ${o.organizationsError ? html`<p class="field-error">${o.organizationsError}</p>` : ''}
            ${errorsFor(e, 'organizationId')}
          </fieldset>`
        : ''
    }

    <div class="buttons">
      <button type="submit" name="intent" value="save" class="primary">
        ${o.mode === 'create' ? 'Create' : 'Save changes'}
      </button>
    </div>
  </form>`;
}

/** Where the error summary's link for a field goes (the element a person fixes). */
function anchorOf(key: string): string {
  if (/^rule-\d+-operations$/.test(key)) return key.replace(/-operations$/, '-read');
  if (key === 'rules') return 'rule-0-resource';
  if (key === 'authType') return 'auth-jwks';
  if (key === 'version') return 'version-v2';
  return key;
}

function labelFor(key: string): string {
  const rule = /^rule-(\d+)-(resource|operations)$/.exec(key);
  if (rule) return `Scope rule ${Number(rule[1]) + 1}`;
  return FIELD_LABELS[key] ?? 'Form';
}
