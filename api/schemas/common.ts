import { z } from '@hono/zod-openapi';
import { CLIENT_ID_PATTERN } from '../../scopes/derive.js';
import { PROBLEM_TYPES, problemTypeUri, type ProblemName } from '../problems.js';
import { refuseForbiddenCharacters, singleLineText } from '../text-fields.js';
import { JwksReportSchema } from './jwks-report.js';

/**
 * Request and response schemas of docs/api.md, by concern in this folder. The OpenAPI document is
 * generated from these, so what is documented is what is validated. Request bodies are strict: an
 * unknown field is a 400. This module holds what every route shares: the path parameter, headers,
 * paging, and the problem answers.
 */

export const ServiceStatus = z.enum(['draft', 'under_review', 'active', 'rejected']);

export const ServiceIdParam = z.object({
  id: z
    .string()
    .regex(CLIENT_ID_PATTERN, { error: 'a service ID is bs- followed by 1–32 lowercase letters or digits' })
    .openapi({ param: { name: 'id', in: 'path' }, example: 'bs-7k2m9q4x1c' }),
});

export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .superRefine(refuseForbiddenCharacters('Idempotency-Key'))
    .regex(/^[\x21-\x7E]{1,255}$/, { error: 'Idempotency-Key is 1–255 printable ASCII characters' })
    .optional()
    .openapi({
      param: { in: 'header' },
      description: 'A retry with the same key applies nothing twice and returns the first answer (24 h).',
    }),
});

export const PageQuery = {
  cursor: singleLineText('cursor')
    .max(512)
    .optional()
    .openapi({ description: 'Opaque cursor from nextCursor' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const ProblemSchema = z
  .object({
    type: z.enum(
      Object.keys(PROBLEM_TYPES).map((n) => problemTypeUri(n as ProblemName)) as [string, ...string[]],
    ),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(
        z.object({
          field: z.string().openapi({
            description:
              'JSON pointer into the request body (e.g. /scopes/rules/0/resource), or the name of a query parameter or header',
          }),
          message: z.string(),
        }),
      )
      .optional(),
    currentStatus: ServiceStatus.optional(),
    report: JwksReportSchema.nullable()
      .optional()
      .openapi({ description: 'The JWKS report (credentials-invalid)' }),
  })
  .openapi('Problem', {
    description:
      'RFC 9457 problem details. Types: ' +
      Object.entries(PROBLEM_TYPES)
        .map(([name, t]) => `${problemTypeUri(name as ProblemName)} (${t.status}, ${t.title})`)
        .join('; '),
  });

export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error answers every authenticated route may give. */
export const commonErrors = {
  400: problem('Invalid input: `errors` names each field'),
  401: problem('Missing, expired or untrusted bearer token'),
  403: problem('Not allowed for your role'),
  413: problem('The request body is larger than 64 KiB'),
  503: problem('Temporal, a worker or PostgreSQL is unavailable; see Retry-After'),
} as const;
export const serviceErrors = { ...commonErrors, 404: problem('No such service, or not yours') } as const;
export const transitionErrors = {
  ...serviceErrors,
  409: problem(
    'Refused in the current state (`currentStatus`), in flight with this Idempotency-Key, or the JWKS fails (`report`)',
  ),
  422: problem('This Idempotency-Key was used with another body'),
  502: problem('Aidbox did not accept the change'),
} as const;
