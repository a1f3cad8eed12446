import { z } from '@hono/zod-openapi';
import type { JwksReport } from '../../credentials/jwks-report.js';

/**
 * The JWKS report as the API shows it (the JWKS report route, a pending change, a
 * `credentials-invalid` problem): the document credentials/jwks-report.ts builds. Typed as that
 * report, so the compiler refuses a schema that drifts from it; its clients (ui/) read the report
 * through this schema's type.
 */
const Severity = z.enum(['error', 'warning']);

export const JwksReportSchema: z.ZodType<JwksReport> = z
  .object({
    valid: z.boolean().openapi({ description: 'No error anywhere and at least one usable key' }),
    summary: z.string().openapi({ description: 'The verdict and the first reason, in one sentence' }),
    jwksUri: z.string().nullable(),
    checkedAt: z.string(),
    fetch: z
      .object({
        finalUrl: z.string(),
        status: z.number(),
        contentType: z.string(),
        cacheControl: z.string().nullable(),
        bytes: z.number(),
        redirected: z.boolean(),
      })
      .nullable(),
    findings: z.array(z.object({ rule: z.string(), severity: Severity, message: z.string() })),
    keys: z.array(
      z.object({
        index: z.number(),
        kid: z.string().nullable(),
        kty: z.string().nullable(),
        alg: z.string().nullable(),
        use: z.string().nullable(),
        size: z.number().nullable(),
        curve: z.string().nullable(),
        usableAlgorithms: z.array(z.string()),
        thumbprint: z.string().nullable(),
        status: z.enum(['usable', 'ignored', 'rejected']),
        checks: z.array(
          z.object({ rule: z.string(), passed: z.boolean(), severity: Severity, message: z.string() }),
        ),
      }),
    ),
    thumbprints: z.record(z.string(), z.string()),
  })
  .openapi('JwksReport', { description: 'Each key judged by the D-rules of docs/smart-rules.md' });
