import { z } from '@hono/zod-openapi';
import { OPERATIONS, type Operation } from '../../scopes/permissions.js';
import { PageQuery, ServiceStatus } from './common.js';
import { JwksReportSchema } from './jwks-report.js';

/** The service as the API shows it to its owner (administrators see more: review.ts). */

const EnvironmentConstants = z.object({
  fhirBaseUrl: z.string(),
  smartConfigurationUrl: z.string(),
  tokenUrl: z.string(),
  capabilityStatementUrl: z.string(),
  scope: z.string().openapi({ description: 'What to request at the token endpoint: the registered scopes' }),
  bulkExportKickOffUrl: z.string().nullable().openapi({
    description:
      'A Bulk Data kick-off with the _type the service may export (send Prefer: respond-async); null without export',
  }),
});

const ProvisioningError = z.object({
  environment: z.enum(['sandbox', 'production']),
  operation: z.string(),
  status: z.number().nullable(),
  kind: z.string(),
  at: z.string(),
});

/** Everything but the pending change, which repeats the registration fields (name … organizationId). */
const ServiceFields = z.object({
  id: z.string(),
  clientId: z.string(),
  ownerId: z.string(),
  organizationId: z.string().nullable(),
  name: z.string(),
  description: z.string(),
  contactEmail: z.string(),
  authMethod: z.union([
    z.object({ type: z.literal('jwks_uri'), jwksUri: z.string() }),
    z.object({ type: z.literal('client_secret') }),
  ]),
  scopes: z.object({
    version: z.enum(['v1', 'v2']),
    rules: z.array(
      z.object({
        resource: z.string(),
        operations: z.array(z.enum(OPERATIONS as [Operation, ...Operation[]])),
      }),
    ),
    strings: z.array(z.string()),
  }),
  status: ServiceStatus,
  rejection: z
    .object({
      kind: z.enum(['declined', 'deactivated', 'revoked-by-owner']),
      reason: z.string(),
      by: z.string(),
      at: z.string(),
    })
    .nullable(),
  approval: z
    .object({
      state: z.enum(['provisioning', 'failed']),
      revision: z.number(),
      policyHash: z.string(),
      by: z.string(),
      at: z.string(),
      attempts: z.number(),
      lastError: ProvisioningError.nullable(),
    })
    .nullable(),
  revision: z.number().int(),
  credentials: z.object({
    state: z.enum(['pending', 'valid', 'invalid']),
    checkedAt: z.string().nullable(),
    secret: z.object({ version: z.number(), fingerprint: z.string(), createdAt: z.string() }).nullable(),
    stagedSecret: z
      .object({
        version: z.number(),
        fingerprint: z.string(),
        createdAt: z.string(),
        activateAt: z.string(),
      })
      .nullable()
      .openapi({
        description:
          'A planned rotation: the next secret (shown once when staged) goes live at activateAt; the live secret works until then',
      }),
    health: z
      .object({
        state: z.enum(['ok', 'failing']),
        since: z.string(),
        lastCheckedAt: z.string().nullable(),
        nextCheckAt: z.string(),
        failures: z.number().int(),
        summary: z.string().nullable(),
        changes: z.array(
          z.object({
            kid: z.string(),
            change: z.enum(['removed', 'changed', 'unusable']),
            message: z.string(),
          }),
        ),
      })
      .nullable()
      .openapi({
        description:
          "A live JWKS service's key set, re-checked on a schedule: failing never deactivates the service; it says what changed until a check passes",
      }),
  }),
  environments: z.object({
    sandbox: EnvironmentConstants.nullable(),
    sandboxReason: z
      .string()
      .nullable()
      .openapi({ description: 'Why there is no sandbox client (null when there is one)' }),
    production: EnvironmentConstants.nullable(),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/**
 * A registration as the workflow keeps it (a pending change's, or the one a previous review saw):
 * the service's own registration fields, picked so the two never drift.
 */
export const RegistrationSchema = ServiceFields.pick({
  name: true,
  description: true,
  contactEmail: true,
  authMethod: true,
  scopes: true,
  organizationId: true,
});

/** A change to a live service. */
const PendingChange = z
  .object({
    revision: z.number().int(),
    state: z.enum(['draft', 'under_review', 'rejected']),
    registration: RegistrationSchema,
    credentialsState: z.enum(['pending', 'valid', 'invalid']),
    jwksReport: JwksReportSchema.nullable(),
    submittedAt: z.string().nullable(),
    rejection: z
      .object({ kind: z.literal('declined'), reason: z.string(), by: z.string(), at: z.string() })
      .nullable(),
  })
  .nullable()
  .openapi({
    description:
      'A change to the live service under its own revision: production keeps serving `revision` until an administrator approves the change; the sandbox serves the change once its credentials are valid',
  });

export const ServiceSchema = ServiceFields.extend({
  pendingChange: PendingChange,
  deletedAt: z
    .string()
    .nullable()
    .openapi({ description: 'When its owner deleted it (administrators only ever see a deleted service)' }),
  projectionError: z
    .object({
      at: z.string(),
      projectionVersion: z.number(),
      sqlstate: z.string(),
      message: z.string(),
    })
    .nullable()
    .openapi({
      description:
        "Set when the read model refused the service's latest state for good: the status is current, other fields may be older or shown escaped. Null normally.",
    }),
}).openapi('Service');

export const ServiceWithSecretSchema = ServiceSchema.extend({
  clientSecret: z.string().nullable().optional().openapi({
    description:
      'The client secret, shown once (secret method). A replay shows it only if it was never shown.',
  }),
  clientSecretShown: z.boolean().optional(),
}).openapi('ServiceWithSecret');

export const HistorySchema = z
  .object({
    items: z.array(
      z.object({
        at: z.string(),
        actor: z.string(),
        action: z.string(),
        from: ServiceStatus.nullable(),
        to: ServiceStatus,
        reason: z.string().nullable(),
        revision: z.number(),
      }),
    ),
  })
  .openapi('History');

export const ServiceListQuery = z.object({ status: ServiceStatus.optional(), ...PageQuery });
