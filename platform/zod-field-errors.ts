import type { z } from 'zod';

/** One field a request got wrong: a JSON pointer into the body, or a parameter's name. */
export interface FieldError {
  /** JSON pointer into the request body (`/scopes/rules/0/resource`), or a query/header parameter name. */
  field: string;
  message: string;
}

/** RFC 6901 §3 escaping of one pointer segment. */
export const pointerSegment = (segment: PropertyKey) =>
  String(segment).replaceAll('~', '~0').replaceAll('/', '~1');

export const pointer = (path: readonly PropertyKey[]) => path.map((s) => `/${pointerSegment(s)}`).join('');

/**
 * zod issues about a JSON body → field errors, each a JSON pointer under `base`. An unknown field
 * is named itself, not its parent object.
 */
export function bodyFieldErrors(issues: readonly z.core.$ZodIssue[], base = ''): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const at = base + pointer(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        errors.push({ field: `${at}/${pointerSegment(key)}`, message: `unknown field "${key}"` });
    } else {
      errors.push({ field: at, message: issue.message });
    }
  }
  return errors;
}
