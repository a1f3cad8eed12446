import { z } from '@hono/zod-openapi';
import { scopesInputSchema } from '../scopes/build.js';
import { CLIENT_ID_PATTERN } from '../scopes/derive.js';
import { OPERATIONS, type Operation } from '../scopes/permissions.js';
import { JwksReportSchema } from './jwks-report-schema.js';
import { PROBLEM_TYPES, problemTypeUri, type ProblemName } from './problems.js';
import {
  multiLineText,
  organizationIdText,
  refuseBlank,
  refuseForbiddenCharacters,
  singleLineText,
} from './text-fields.js';

/**
 * Request and response schemas of docs/api.md. The OpenAPI document is generated from these, so what
 * is documented is what is validated. Request bodies are strict: an unknown field is a 400.
 */

// ---- common ----

export const ServiceIdParam = z.object({
  id: z
    .string()
    .regex(CLIENT_ID_PATTERN, { error: 'a service ID is bs- followed by 1–32 lowercase letters or digits' })
    .openapi({ param: { name: 'id', in: 'path' }, example: 'bs-7k2m9q4x1c' }),
});

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
    currentStatus: z.enum(['draft', 'under_review', 'active', 'rejected']).optional(),
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

const Status = z.enum(['draft', 'under_review', 'active', 'rejected']);

// ---- registration ----

export const AuthMethodInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('jwks_uri'), jwksUri: singleLineText('jwksUri').min(1).max(2048) }),
  z.strictObject({ type: z.literal('client_secret') }),
]);

export const RegistrationInput = z
  .strictObject({
    name: singleLineText('name').trim().min(1).max(200).superRefine(refuseBlank('name')),
    description: multiLineText('description').max(4000).default(''),
    contactEmail: z
      .email({ error: 'must be an e-mail address' })
      .max(320)
      .superRefine(refuseForbiddenCharacters('contactEmail')),
    authMethod: AuthMethodInput,
    scopes: scopesInputSchema,
    organizationId: organizationIdText()
      .nullable()
      .default(null)
      .openapi({ description: 'Required when OrgBAC is on' }),
  })
  .openapi('RegistrationInput');

/** A merge-patch (RFC 7396) of the registration: any subset of its fields. */
export const RegistrationPatch = z
  .strictObject({
    name: z.unknown().optional(),
    description: z.unknown().optional(),
    contactEmail: z.unknown().optional(),
    authMethod: z.unknown().optional(),
    scopes: z.unknown().optional(),
    organizationId: z.unknown().optional(),
  })
  .openapi('RegistrationPatch', {
    description: 'JSON merge-patch of RegistrationInput; authMethod.type cannot change',
  });

// ---- the service ----

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

const AuthMethodSchema = z.union([
  z.object({ type: z.literal('jwks_uri'), jwksUri: z.string() }),
  z.object({ type: z.literal('client_secret') }),
]);

const ScopesSchema = z.object({
  version: z.enum(['v1', 'v2']),
  rules: z.array(
    z.object({
      resource: z.string(),
      operations: z.array(z.enum(OPERATIONS as [Operation, ...Operation[]])),
    }),
  ),
  strings: z.array(z.string()),
});

/** A registration as the workflow keeps it: a pending change's, or the one a previous review saw. */
const RegistrationSchema = z.object({
  name: z.string(),
  description: z.string(),
  contactEmail: z.string(),
  authMethod: AuthMethodSchema,
  scopes: ScopesSchema,
  organizationId: z.string().nullable(),
});

export const ServiceSchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    ownerId: z.string(),
    organizationId: z.string().nullable(),
    name: z.string(),
    description: z.string(),
    contactEmail: z.string(),
    authMethod: AuthMethodSchema,
    scopes: ScopesSchema,
    status: Status,
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
    pendingChange: z
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
      }),
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
  })
  .openapi('Service');

export const ServiceWithSecretSchema = ServiceSchema.extend({
  clientSecret: z.string().nullable().optional().openapi({
    description:
      'The client secret, shown once (secret method). A replay shows it only if it was never shown.',
  }),
  clientSecretShown: z.boolean().optional(),
}).openapi('ServiceWithSecret');

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const ServiceListQuery = z.object({ status: Status.optional(), ...PageQuery });
export const AdminListQuery = z.object({
  status: Status.optional(),
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

export const HistorySchema = z
  .object({
    items: z.array(
      z.object({
        at: z.string(),
        actor: z.string(),
        action: z.string(),
        from: Status.nullable(),
        to: Status,
        reason: z.string().nullable(),
        revision: z.number(),
      }),
    ),
  })
  .openapi('History');

export const AdminServiceDetail = ServiceSchema.extend({
  history: HistorySchema.shape.items,
}).openapi('AdminServiceDetail');

export const JwksReportResponse = z
  .object({
    serviceId: z.string(),
    credentialsState: z.enum(['pending', 'valid', 'invalid']),
    report: JwksReportSchema.nullable().openapi({
      description: 'Null for the secret method or before the first check',
    }),
  })
  .openapi('JwksReportResponse');

export const AssertionCheckBody = z
  .strictObject({
    environment: z.enum(['sandbox', 'production']),
    clientAssertion: z.string().min(1).max(16_384),
  })
  .openapi('AssertionCheckRequest');

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

export const ApproveBody = z
  .strictObject({
    revision: z.number().int().min(1),
    policyHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'the policy hash shown with the production policies' }),
  })
  .openapi('ApproveRequest');

export const ReasonBody = z
  .strictObject({ reason: multiLineText('reason').trim().min(1).max(2000) })
  .openapi('DecisionRequest');

export const RotateSecretBody = z
  .strictObject({
    activateAt: z.iso
      .datetime({ offset: true, error: 'an RFC 3339 time with a time zone, e.g. 2026-12-01T09:00:00Z' })
      .optional()
      .openapi({
        description:
          'Stage the new secret to go live at this time (the live secret keeps working until then); without it the new secret is live at once',
        example: '2026-12-01T09:00:00Z',
      }),
  })
  .openapi('RotateSecretRequest');

export const OrganizationSchema = z
  .object({ id: z.string(), name: z.string().nullable(), partOf: z.string().nullable() })
  .openapi('Organization');

export const OrganizationsQuery = z.object({
  search: singleLineText('search').max(200).optional(),
  ...PageQuery,
});
