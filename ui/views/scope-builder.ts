import { html } from 'hono/html';
import { buildScopes } from '../../scopes/build.js';
import { FHIR_R4_RESOURCE_TYPES } from '../../scopes/resource-types.js';
import { described, errorsFor, type FieldErrors } from './field-errors.js';
import type { Html } from './layout.js';
import { OPERATIONS } from '../../scopes/permissions.js';
import { filled, SCOPE_PRESETS, type FormState, type RuleRow } from './registration-state.js';

/**
 * The form's scope builder: the version, the presets, one row per rule and the preview. Without
 * JavaScript its buttons post the form and the server redraws it; portal.js adds and removes rows
 * in place and makes the preview live.
 */
export function scopeBuilder(form: FormState, e: FieldErrors, preview: boolean): Html {
  const blank = (form.extraRows ?? 0) + (form.rows.length === 0 ? 1 : 0);
  const rows = [
    ...form.rows,
    ...Array.from({ length: blank }, (): RuleRow => ({ resource: '', operations: [] })),
  ];
  return html`<fieldset class="scope-builder">
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
              <button type="submit" name="intent" value="preset-${key}" class="small">${preset.label}</button>
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
        ${preview ? scopePreview(form) : html`<p>Use “Preview scopes” to see the strings (they update as you choose when JavaScript is on).</p>`}
      </div>
    </section>
  </fieldset>`;
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
