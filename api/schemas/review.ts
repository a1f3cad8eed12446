import { z } from '@hono/zod-openapi';
import { organizationIdText, singleLineText } from '../text-fields.js';
import { PageQuery, ServiceStatus } from './common.js';
import { HistorySchema, RegistrationSchema, ServiceSchema } from './service.js';

/** What administrators read: the service lists and detail, the review queue, the production policies. */

export const AdminListQuery = z.object({
  status: ServiceStatus.optional(),
  health: z
    .enum(['ok', 'failing'])
    .optional()
    .openapi({ description: 'Live JWKS services whose scheduled key-set check is ok, or failing' }),
  includeDeleted: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'true: also the services their owners deleted (with deletedAt)' }),
  ownerId: singleLineText('ownerId').min(1).max(255).optional(),
  organizationId: organizationIdText().optional(),
  ...PageQuery,
});

export const ReviewQueueItem = ServiceSchema.extend({
  submittedAt: z.string(),
  change: z.boolean().openapi({ description: 'A change to a live service (which keeps serving meanwhile)' }),
  waitingSeconds: z.number().int().openapi({ description: 'Seconds since submission' }),
}).openapi('ReviewQueueItem');

export const AdminServiceDetail = ServiceSchema.extend({
  history: HistorySchema.shape.items,
}).openapi('AdminServiceDetail');

const PolicyChange = z.object({ id: z.string(), reason: z.string() });

export const ProductionPoliciesResponse = z
  .object({
    serviceId: z.string(),
    change: z.boolean().optional().openapi({
      description: 'A change to a live service: previousSubmission is what production serves now',
    }),
    policyDiff: z
      .object({
        added: z.array(PolicyChange),
        removed: z.array(PolicyChange),
        changed: z.array(PolicyChange),
      })
      .nullable()
      .optional()
      .openapi({ description: "For a change: what approving it does to production's access policies" }),
    revision: z.number(),
    submittedAt: z.string(),
    policyHash: z.string(),
    policies: z.array(z.record(z.string(), z.unknown())),
    notes: z.array(z.string()),
    /** The scope strings under review and what a reviewer should look at twice (scopes/risk.ts). */
    scopes: z.array(z.string()),
    riskFlags: z.array(
      z.object({
        code: z.string(),
        severity: z.enum(['high', 'medium', 'low']),
        message: z.string(),
        scopes: z.array(z.string()),
        organizations: z
          .array(z.string())
          .optional()
          .openapi({ description: 'The bound Organization and those nested under it (OrgBAC)' }),
      }),
    ),
    /** The previous review of a resubmitted service, to show what changed since. */
    previousSubmission: z
      .object({
        revision: z.number(),
        submittedAt: z.string(),
        registration: RegistrationSchema,
        policyHash: z.string(),
        policies: z.array(z.record(z.string(), z.unknown())),
      })
      .nullable(),
  })
  .openapi('ProductionPolicies');
