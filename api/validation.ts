import type { Context } from 'hono';
import type { z } from 'zod';
import { bodyFieldErrors } from '../platform/zod-field-errors.js';
import { problemResponse, validationError, type FieldError } from './problems.js';

/**
 * zod issues → field errors. Body fields are JSON pointers into the body; query parameters and
 * headers are named as such (`limit`, `Idempotency-Key`). An unknown body field is named itself.
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], target: string, base = ''): FieldError[] {
  if (target === 'json') return bodyFieldErrors(issues, base);
  return issues.map((issue) => {
    const name = String(issue.path[0] ?? target);
    // Header schemas use lower-case keys (how Hono reads them); name the header as people write it.
    const field =
      target === 'header'
        ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
        : name;
    return { field, message: issue.message };
  });
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
