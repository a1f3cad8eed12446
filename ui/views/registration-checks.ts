import { buildScopes } from '../../scopes/build.js';
import { FHIR_R4_RESOURCE_TYPES } from '../../scopes/resource-types.js';
import type { FieldErrors } from './field-errors.js';
import { didYouMean, fieldMessage } from './plain-language.js';
import { filled, toRegistrationInput, type FormState } from './registration-state.js';

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
