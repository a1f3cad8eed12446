import { html } from 'hono/html';
import { buildScopes } from '../../scopes/build.js';
import { FHIR_R4_RESOURCE_TYPES } from '../../scopes/resource-types.js';
import type { Organization, Service } from '../api-client.js';
import { csrfField, type Html } from './layout.js';

/**
 * The register and edit form: details, authentication method, the scope builder and (OrgBAC) the
 * Organization. Without JavaScript everything works by posting the form: "Preview scopes" and
 * "Add a row" re-render it server-side; portal.js only makes the preview live and adds rows in place.
 */
export const OPERATIONS = ['create', 'read', 'update', 'delete', 'search'] as const;
type Op = (typeof OPERATIONS)[number];

export interface RuleRow {
  resource: string;
  operations: Op[];
}

export interface FormState {
  name: string;
  description: string;
  contactEmail: string;
  authType: 'jwks_uri' | 'client_secret';
  jwksUri: string;
  version: 'v1' | 'v2';
  rows: RuleRow[];
  organizationId: string;
  idempotencyKey: string;
  /** Edit only: the revision the form was opened at (If-Match). */
  revision?: number;
  /** Blank rows to show after the filled ones. */
  extraRows?: number;
}

/** Field key → message; keys are form field names, plus `general` for what has no field. */
export type FieldErrors = Map<string, string[]>;

export const emptyForm = (idempotencyKey: string): FormState => ({
  name: '',
  description: '',
  contactEmail: '',
  authType: 'jwks_uri',
  jwksUri: '',
  version: 'v2',
  rows: [{ resource: '', operations: [] }],
  organizationId: '',
  idempotencyKey,
});

export function formFromService(service: Service, idempotencyKey: string): FormState {
  return {
    name: service.name,
    description: service.description,
    contactEmail: service.contactEmail,
    authType: service.authMethod.type,
    jwksUri: service.authMethod.type === 'jwks_uri' ? service.authMethod.jwksUri : '',
    version: service.scopes.version,
    rows: service.scopes.rules.map((r) => ({ resource: r.resource, operations: r.operations as Op[] })),
    organizationId: service.organizationId ?? '',
    idempotencyKey,
    revision: service.revision,
  };
}

const text = (body: Record<string, unknown>, key: string) => {
  const value = body[key];
  return typeof value === 'string' ? value : '';
};

export function formFromBody(body: Record<string, unknown>): FormState {
  const rows: RuleRow[] = [];
  for (let i = 0; i < 200; i++) {
    if (!(`rule-${i}-resource` in body)) break;
    rows.push({
      resource: text(body, `rule-${i}-resource`).trim(),
      operations: OPERATIONS.filter((op) => body[`rule-${i}-${op}`] !== undefined),
    });
  }
  const revision = Number(text(body, 'revision'));
  return {
    name: text(body, 'name'),
    description: text(body, 'description'),
    contactEmail: text(body, 'contactEmail').trim(),
    authType: text(body, 'authType') === 'client_secret' ? 'client_secret' : 'jwks_uri',
    jwksUri: text(body, 'jwksUri').trim(),
    version: text(body, 'version') === 'v1' ? 'v1' : 'v2',
    rows,
    organizationId: text(body, 'organizationId'),
    idempotencyKey: text(body, 'idempotencyKey'),
    ...(Number.isInteger(revision) && revision > 0 ? { revision } : {}),
  };
}

const filled = (row: RuleRow) => row.resource !== '' || row.operations.length > 0;

/** The registration input the API takes, and which form row each rule came from (for its errors). */
export function toRegistrationInput(form: FormState, orgbac: boolean) {
  const rowOfRule: number[] = [];
  const rules = form.rows.flatMap((row, index) => {
    if (!filled(row)) return [];
    rowOfRule.push(index);
    return [{ resource: row.resource, operations: row.operations }];
  });
  const input = {
    name: form.name,
    description: form.description,
    contactEmail: form.contactEmail,
    authMethod:
      form.authType === 'jwks_uri' ? { type: 'jwks_uri', jwksUri: form.jwksUri } : { type: 'client_secret' },
    scopes: { version: form.version, rules },
    organizationId: orgbac ? form.organizationId || null : null,
  };
  return { input, rowOfRule };
}

/** The API's problem `errors[].field` (JSON pointers) → the form fields they belong to. */
export function fieldErrorsFrom(
  errors: Array<{ field: string; message: string }>,
  rowOfRule: number[],
): FieldErrors {
  const map: FieldErrors = new Map();
  const add = (key: string, message: string) => map.set(key, [...(map.get(key) ?? []), message]);
  for (const { field, message } of errors) {
    const rule = /^\/scopes\/rules\/(\d+)(?:\/(resource|operations)(?:\/\d+)?)?$/.exec(field);
    if (rule) {
      const row = rowOfRule[Number(rule[1])] ?? Number(rule[1]);
      add(rule[2] === 'resource' ? `rule-${row}-resource` : `rule-${row}-operations`, message);
      continue;
    }
    const simple: Record<string, string> = {
      '/name': 'name',
      '/description': 'description',
      '/contactEmail': 'contactEmail',
      '/authMethod': 'authType',
      '/authMethod/type': 'authType',
      '/authMethod/jwksUri': 'jwksUri',
      '/scopes': 'rules',
      '/scopes/version': 'version',
      '/scopes/rules': 'rules',
      '/organizationId': 'organizationId',
    };
    add(simple[field] ?? 'general', message);
  }
  return map;
}

/** Server-side scope preview: the same builder the API uses, so the strings shown are the strings granted. */
function scopePreview(form: FormState): Html {
  const rules = form.rows.filter(filled).map((r) => ({ resource: r.resource, operations: r.operations }));
  if (rules.length === 0) return html`<p>Choose a resource type and operations to see the scope strings.</p>`;
  const built = buildScopes({ version: form.version, rules });
  if (!built.ok)
    return html`<ul class="preview-errors">
      ${built.errors.map((e) => html`<li>${e.message}</li>`)}
    </ul>`;
  return html`<ul class="scopes">
      ${built.value.strings.map((s) => html`<li><code>${s}</code></li>`)}
    </ul>
    ${built.value.notes.map((n) => html`<p class="hint">${n}</p>`)}`;
}

function errorsFor(errors: FieldErrors, key: string): Html {
  const list = errors.get(key);
  if (!list) return html``;
  return html`<p class="field-error" id="${key}-error">${list.join('; ')}</p>`;
}

const described = (errors: FieldErrors, key: string, hint?: string) => {
  const ids = [errors.has(key) ? `${key}-error` : '', hint ?? ''].filter(Boolean).join(' ');
  return ids ? html`aria-describedby="${ids}" ${errors.has(key) ? html`aria-invalid="true"` : ''}` : html``;
};

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
  const blank = (form.extraRows ?? 0) + (form.rows.length === 0 ? 1 : 0);
  const rows = [
    ...form.rows,
    ...Array.from({ length: blank }, () => ({ resource: '', operations: [] as Op[] })),
  ];
  const general = e.get('general');
  return html`<form method="post" action="${o.action}" class="registration" novalidate>
    ${csrfField(o.csrf)}
    <input type="hidden" name="idempotencyKey" value="${form.idempotencyKey}" />
    ${form.revision ? html`<input type="hidden" name="revision" value="${form.revision}" />` : ''}
    ${
      e.size > 0
        ? html`<div class="error-box" role="alert" id="form-errors">
            <p>
              <strong>The service was not ${o.mode === 'create' ? 'created' : 'saved'}.</strong> Fix the
              fields marked below.
            </p>
            ${
              general
                ? html`<ul>
                    ${general.map((m) => html`<li>${m}</li>`)}
                  </ul>`
                : ''
            }
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

    <fieldset class="scope-builder">
      <legend>System scopes</legend>
      <p class="hint">The subject is always <code>system</code>. One scope version per service.</p>
      <fieldset class="inline">
        <legend>Scope version</legend>
        <input
          type="radio"
          id="version-v2"
          name="version"
          value="v2"
          ${form.version === 'v2' ? 'checked' : ''}
        />
        <label for="version-v2">v2 (e.g. <code>system/Patient.rs</code>)</label>
        <input
          type="radio"
          id="version-v1"
          name="version"
          value="v1"
          ${form.version === 'v1' ? 'checked' : ''}
        />
        <label for="version-v1">v1 (e.g. <code>system/*.read</code>)</label>
      </fieldset>
      ${errorsFor(e, 'version')} ${errorsFor(e, 'rules')}
      <div id="scope-rows">${rows.map((row, i) => ruleRow(row, i, e))}</div>
      <datalist id="resource-types">
        <option value="*"></option>
        ${FHIR_R4_RESOURCE_TYPES.map((t) => html`<option value="${t}"></option>`)}
      </datalist>
      <div class="buttons">
        <button type="submit" name="intent" value="add-row" class="secondary" data-add-row>Add a row</button>
        <button type="submit" name="intent" value="preview" class="secondary">Preview scopes</button>
      </div>
      <section aria-labelledby="preview-h" class="preview">
        <h3 id="preview-h">Scope strings</h3>
        <div id="scope-preview" aria-live="polite">
          ${o.preview ? scopePreview(form) : html`<p>Use “Preview scopes” to see the strings (they update as you choose when JavaScript is on).</p>`}
        </div>
      </section>
    </fieldset>

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

function ruleRow(row: RuleRow, i: number, e: FieldErrors): Html {
  const id = `rule-${i}`;
  return html`<fieldset class="rule" data-rule>
    <legend>Scope rule ${i + 1}</legend>
    <label for="${id}-resource">Resource type (or <code>*</code> for all)</label>
    <input
      id="${id}-resource"
      name="${id}-resource"
      list="resource-types"
      value="${row.resource}"
      autocomplete="off"
      ${described(e, `${id}-resource`)}
    />
    ${errorsFor(e, `${id}-resource`)}
    <div class="ops" role="group" aria-label="Operations for scope rule ${i + 1}">
      ${OPERATIONS.map(
        (op) =>
          html`<span class="op"
            ><input
              type="checkbox"
              id="${id}-${op}"
              name="${id}-${op}"
              value="on"
              ${row.operations.includes(op) ? 'checked' : ''}
            />
            <label for="${id}-${op}">${op[0]!.toUpperCase() + op.slice(1)}</label></span
          >`,
      )}
    </div>
    ${errorsFor(e, `${id}-operations`)}
  </fieldset>`;
}
