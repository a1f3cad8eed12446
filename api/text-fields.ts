import { z } from '@hono/zod-openapi';
import { isOrganizationId } from '../scopes/derive.js';
import {
  describeForbidden,
  findForbiddenCharacter,
  isVisiblyBlank,
  normalizeLineBreaks,
  type TextRuleOptions,
} from '../platform/text-rules.js';

/**
 * The text rules of platform/text-rules.ts as zod refinements, for every text field of the API
 * (body fields, query parameters, headers). A refused value is a 400 naming the field
 * (api/validation.ts turns the issue's path into a JSON pointer or the parameter's name).
 */
export const refuseForbiddenCharacters =
  (field: string, options: TextRuleOptions = {}) =>
  (value: string, ctx: z.RefinementCtx) => {
    const found = findForbiddenCharacter(value, options);
    if (found) ctx.addIssue({ code: 'custom', message: describeForbidden(field, found) });
  };

/** One line of text: no control character at all (TAB and line breaks included). */
export const singleLineText = (field: string) => z.string().superRefine(refuseForbiddenCharacters(field));

/** Several lines: CRLF and CR become LF first (browsers send CRLF), then TAB and LF are allowed. */
export const multiLineText = (field: string) =>
  z
    .string()
    .overwrite(normalizeLineBreaks)
    .superRefine(refuseForbiddenCharacters(field, { multiline: true }));

/** A name must show something: not only whitespace or zero-width characters. */
export const refuseBlank = (field: string) => (value: string, ctx: z.RefinementCtx) => {
  if (isVisiblyBlank(value)) ctx.addIssue({ code: 'custom', message: `${field} must not be blank` });
};

/** An Organization ID: FHIR `id` (https://hl7.org/fhir/R4/datatypes.html#id), never `.` or `..`. */
export const organizationIdText = () =>
  singleLineText('organizationId').refine(isOrganizationId, {
    error:
      'must be a FHIR id (letters, digits, - and .; at most 64) and not "." or ".." (those name no Organization)',
  });
