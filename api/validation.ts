import type { Context } from 'hono';
import type { z } from 'zod';
import { problemResponse, validationError, type FieldError } from './problems.js';

/** RFC 6901 escaping of one pointer segment. */
export const pointerSegment = (segment: PropertyKey) =>
  String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
export const pointer = (path: readonly PropertyKey[]) => path.map((s) => `/${pointerSegment(s)}`).join('');

/**
 * zod issues → field errors. Body fields are JSON pointers into the body; query parameters and
 * headers are named as such (`limit`, `Idempotency-Key`). An unknown body field is named itself.
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], target: string, base = ''): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (target !== 'json') {
      const name = String(issue.path[0] ?? target);
      // Header schemas use lower-case keys (how Hono reads them); name the header as people write it.
      const field =
        target === 'header'
          ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
          : name;
      errors.push({ field, message: issue.message });
      continue;
    }
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

/** The zod-openapi default hook: a failed validation becomes a 400 problem naming each field. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  _c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const target = result.target ?? 'json';
  return problemResponse(validationError(fieldErrors(result.error.issues, target)));
}
