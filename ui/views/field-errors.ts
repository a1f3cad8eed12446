import { html } from 'hono/html';
import type { Html } from './layout.js';

/** Field key → message; keys are form field names, plus `general` for what has no field. */
export type FieldErrors = Map<string, string[]>;

export function errorsFor(errors: FieldErrors, key: string): Html {
  const list = errors.get(key);
  if (!list) return html``;
  return html`<p class="field-error" id="${key}-error">${list.join('; ')}</p>`;
}

export const described = (errors: FieldErrors, key: string, hint?: string) => {
  const ids = [errors.has(key) ? `${key}-error` : '', hint ?? ''].filter(Boolean).join(' ');
  return ids ? html`aria-describedby="${ids}" ${errors.has(key) ? html`aria-invalid="true"` : ''}` : html``;
};
