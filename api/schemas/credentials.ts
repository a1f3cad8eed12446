import { z } from '@hono/zod-openapi';
import { JwksReportSchema } from './jwks-report.js';

/** A service's credentials as the API reports them: the JWKS report and the assertion check. */

export const JwksReportResponse = z
  .object({
    serviceId: z.string(),
    credentialsState: z.enum(['pending', 'valid', 'invalid']),
    report: JwksReportSchema.nullable().openapi({
      description: 'Null for the secret method or before the first check',
    }),
  })
  .openapi('JwksReportResponse');

export const AssertionCheckResponse = z
  .object({
    accepted: z.boolean(),
    tokenUrl: z.string(),
    checks: z.array(
      z.object({
        id: z.string(),
        rule: z.string(),
        status: z.enum(['passed', 'failed', 'skipped']),
        expected: z.string(),
        found: z.string(),
        message: z.string(),
      }),
    ),
    note: z.string(),
  })
  .openapi('AssertionCheckResult');
