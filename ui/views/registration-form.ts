import { html } from 'hono/html';
import { buildScopes } from '../../scopes/build.js';
import { FHIR_R4_RESOURCE_TYPES } from '../../scopes/resource-types.js';
import type { Organization, Service } from '../api-client.js';
import { csrfField, type Html } from './layout.js';
import { didYouMean, FIELD_LABELS, fieldMessage } from './plain-language.js';

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

/** The form of an edit: the pending change when a live service has one (that is what an edit changes). */
export function formFromService(service: Service, idempotencyKey: string): FormState {
  const r = service.pendingChange?.registration ?? service;
  return {
    name: r.name,
    description: r.description,
    contactEmail: r.contactEmail,
    authType: r.authMethod.type,
    jwksUri: r.authMethod.type === 'jwks_uri' ? r.authMethod.jwksUri : '',
    version: r.scopes.version,
    rows: r.scopes.rules.map((rule) => ({ resource: rule.resource, operations: rule.operations as Op[] })),
    organizationId: r.organizationId ?? '',
    idempotencyKey,
    revision: service.pendingChange?.revision ?? service.revision,
  };
}

const text = (body: Record<string, unknown>, key: string) => {
  const value = body[key];
  return typeof value === 'string' ? value : '';
};

export function formFromBody(body: Record<string, unknown>): FormState {
  const rows: RuleRow[] = [];
  // Rows removed in place by portal.js leave gaps in the numbering: skip them rather than stop.
  for (let i = 0; i < 200; i++) {
    if (!(`rule-${i}-resource` in body)) continue;
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

/** Starting points for the scope rules: each replaces the rows (the person can still change them). */
export const SCOPE_PRESETS: Record<string, { label: string; version?: 'v1' | 'v2'; rows: RuleRow[] }> = {
  'bulk-read': {
    label: 'Bulk export, read-only',
    rows: [{ resource: '*', operations: ['read', 'search'] }],
  },
  'patient-read': {
    label: 'Patient records, read-only',
    rows: ['Patient', 'Encounter', 'Condition', 'Observation', 'MedicationRequest', 'Immunization'].map(
      (resource) => ({ resource, operations: ['read', 'search'] as Op[] }),
    ),
  },
  'claims-read': {
    label: 'Claims and coverage, read-only',
    rows: ['Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Coverage'].map((resource) => ({
      resource,
      operations: ['read', 'search'] as Op[],
    })),
  },
  'observation-write': {
    label: 'Send observations',
    rows: [{ resource: 'Observation', operations: ['create', 'update'] }],
  },
};

/** A form with the rows of a preset (other fields kept). */
export function withPreset(form: FormState, preset: string): FormState {
  const chosen = SCOPE_PRESETS[preset];
  if (!chosen) return form;
  return { ...form, rows: chosen.rows.map((r) => ({ ...r, operations: [...r.operations] })) };
}

/** A form without row `index` (one blank row stays when it was the last). */
export function withoutRow(form: FormState, index: number): FormState {
  const rows = form.rows.filter((_, i) => i !== index);
  return { ...form, rows: rows.length ? rows : [{ resource: '', operations: [] }] };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Every problem the page can see before asking the API, all at once: the API checks in rounds
 * (the body's shape first, then the scopes), and a person should not fix one field per round trip.
 * The API stays authoritative; what it refuses beyond these is shown the same way.
 */
export function checkForm(form: FormState, orgbac: boolean): FieldErrors {
  const errors: FieldErrors = new Map();
  const add = (key: string, message: string) => errors.set(key, [...(errors.get(key) ?? []), message]);
  if (!form.name.trim()) add('name', 'Enter a name for the service.');
  else if (form.name.length > 200) add('name', 'Name is too long: at most 200 characters.');
  if (form.description.length > 4000) add('description', 'Description is too long: at most 4000 characters.');
  if (!form.contactEmail) add('contactEmail', 'Enter a contact e-mail, such as ops@example.com.');
  else if (!EMAIL.test(form.contactEmail))
    add('contactEmail', 'Enter the contact e-mail as an address, such as ops@example.com.');
  if (form.authType === 'jwks_uri') {
    if (!form.jwksUri)
      add('jwksUri', 'Enter the JWKS URI, an https:// address where your public keys are published.');
    else if (!/^https?:\/\//i.test(form.jwksUri))
      add('jwksUri', 'Enter the JWKS URI as a full address starting with https://.');
  }
  const filledRows = form.rows.map((row, index) => ({ row, index })).filter(({ row }) => filled(row));
  if (filledRows.length === 0)
    add('rules', 'Add at least one scope rule: a resource type and its operations.');
  for (const { row, index } of filledRows) {
    if (!row.resource) add(`rule-${index}-resource`, 'Choose a FHIR resource type, or * for all of them.');
    else if (row.resource !== '*' && !(FHIR_R4_RESOURCE_TYPES as readonly string[]).includes(row.resource)) {
      const guess = didYouMean(row.resource);
      add(
        `rule-${index}-resource`,
        `${row.resource} is not a FHIR R4 resource type.${guess ? ` Did you mean ${guess}?` : ''}`,
      );
    }
    if (row.operations.length === 0) add(`rule-${index}-operations`, 'Choose at least one operation.');
  }
  // The scope builder's own refusals (v1 groups and the like), with the API's wording, per row.
  if (!errors.size) {
    const { input, rowOfRule } = toRegistrationInput(form, orgbac);
    const built = buildScopes(input.scopes);
    if (!built.ok)
      for (const [key, list] of fieldErrorsFrom(built.errors, rowOfRule)) list.forEach((m) => add(key, m));
  }
  if (orgbac && !form.organizationId)
    add('organizationId', 'Choose the Organization whose data the service may access.');
  return errors;
}

/** The API's problem `errors[].field` (JSON pointers) → the form fields they belong to, in words. */
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
      const key = rule[2] === 'resource' ? `rule-${row}-resource` : `rule-${row}-operations`;
      add(key, message);
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
  for (const [key, list] of map) map.set(key, [...new Set(list.map((m) => fieldMessage(key, m)))]);
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

    <fieldset class="scope-builder">
      <legend>System scopes</legend>
      <p class="hint">The subject is always <code>system</code>. One scope version per service.</p>
      <fieldset class="inline">
        <legend>Scope version</legend>
        <div class="options">
          <span class="radio"
            ><input
              type="radio"
              id="version-v2"
              name="version"
              value="v2"
              ${form.version === 'v2' ? 'checked' : ''}
            />
            <label for="version-v2">v2 (e.g. <code>system/Patient.rs</code>)</label></span
          >
          <span class="radio"
            ><input
              type="radio"
              id="version-v1"
              name="version"
              value="v1"
              ${form.version === 'v1' ? 'checked' : ''}
            />
            <label for="version-v1">v1 (e.g. <code>system/*.read</code>)</label></span
          >
        </div>
        <p class="hint">
          Same access, two notations: v1 <code>read</code> is v2 <code>rs</code> (read + search), v1
          <code>write</code> is v2 <code>cud</code>, v1 <code>*</code> is v2 <code>cruds</code>.
        </p>
      </fieldset>
      ${errorsFor(e, 'version')} ${errorsFor(e, 'rules')}
      <div role="group" aria-labelledby="presets-h">
        <p id="presets-h" class="hint">Start from a common set (replaces the rows below):</p>
        <ul class="presets">
          ${Object.entries(SCOPE_PRESETS).map(
            ([key, preset]) =>
              html`<li>
                <button type="submit" name="intent" value="preset-${key}" class="small">
                  ${preset.label}
                </button>
              </li>`,
          )}
        </ul>
      </div>
      <div id="scope-rows">${rows.map((row, i) => ruleRow(row, i, e, rows.length))}</div>
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

function ruleRow(row: RuleRow, i: number, e: FieldErrors, count: number): Html {
  const id = `rule-${i}`;
  return html`<fieldset class="rule" data-rule id="${id}">
    <legend>Scope rule ${i + 1}</legend>
    <button
      type="submit"
      name="intent"
      value="remove-row-${i}"
      class="small remove-row"
      data-remove-row
      ${count <= 1 && !filled(row) ? 'hidden' : ''}
    >
      Remove<span class="visually-hidden"> scope rule ${i + 1}</span>
    </button>
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
    <div
      class="ops"
      role="group"
      aria-label="Operations for scope rule ${i + 1}"
      ${e.has(`${id}-operations`) ? html`aria-describedby="${id}-operations-error"` : ''}
    >
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
