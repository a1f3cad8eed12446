import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { parseScopeList } from '../../scopes/parse.js';
import { organizationRiskFlags, scopeRiskFlags } from '../../scopes/risk.js';
import { approveUpdate, deactivateUpdate, rejectUpdate } from '../../workflows/backend-service/messages.js';
import { canonicalJson } from '../../scopes/canonical-json.js';
import { changeUnderReview, submissionUnderReview } from '../../workflows/backend-service/rules.js';
import type { SubmissionSnapshot } from '../../workflows/backend-service/service-state.js';
import type { AppEnv, Services } from '../context.js';
import { runIdempotent } from '../idempotency/run.js';
import { ApiProblem, notFound } from '../problems.js';
import { ApproveBody, ReasonBody } from '../schemas/commands.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  pageOf,
  PageQuery,
  serviceErrors,
  ServiceIdParam,
  transitionErrors,
} from '../schemas/common.js';
import {
  AdminListQuery,
  AdminServiceDetail,
  ProductionPoliciesResponse,
  ReviewQueueItem,
} from '../schemas/review.js';
import { ServiceSchema } from '../schemas/service.js';
import { loadServiceForAdmin, requireRole } from '../services/access.js';
import { applyUpdate } from '../services/apply-update.js';
import { presentService } from '../services/present.js';
import { findService, listServices, reviewQueue, serviceHistory } from '../services/read-model.js';
import { TAGS, bearerAuth, json, jsonBody, jsonText, ok } from './openapi-helpers.js';
import { actorOf, etagOf } from './services.js';

/** The previous review, trimmed to what a reviewer compares. */
/** What approving a change does to production's policies: added, removed and changed, each with its reason. */
function policyDiff(live: SubmissionSnapshot, next: SubmissionSnapshot) {
  const before = new Map(live.productionPolicies.policies.map((p) => [p.id, p]));
  const after = new Map(next.productionPolicies.policies.map((p) => [p.id, p]));
  const item = (p: { id: string; description: string }) => ({ id: p.id, reason: p.description });
  return {
    added: [...after.values()].filter((p) => !before.has(p.id)).map(item),
    removed: [...before.values()].filter((p) => !after.has(p.id)).map(item),
    changed: [...after.values()]
      .filter((p) => before.has(p.id) && canonicalJson(before.get(p.id)) !== canonicalJson(p))
      .map(item),
  };
}

function previousReview(previous: SubmissionSnapshot | null) {
  if (!previous) return null;
  return {
    revision: previous.revision,
    submittedAt: previous.submittedAt,
    registration: previous.registration,
    policyHash: previous.productionPolicies.policyHash,
    policies: previous.productionPolicies.policies,
  };
}

/**
 * What an OrgBAC binding reaches beyond its own Organization: the nested Organizations the
 * production lookup returns, as a note and a risk flag. A failed lookup is said, not hidden.
 */
async function organizationBinding(services: Services, organizationId: string | null) {
  if (organizationId === null || !services.environments.productionOrgbac) return { notes: [], riskFlags: [] };
  let descendants: string[];
  try {
    descendants = await services.organizations.descendants(organizationId);
  } catch {
    return {
      notes: [
        `The Organizations nested under Organization/${organizationId} could not be looked up right now; the binding includes any there are. Reload to check again.`,
      ],
      riskFlags: [],
    };
  }
  return {
    notes:
      descendants.length > 0
        ? [
            `The binding includes the Organizations nested under Organization/${organizationId}: ${descendants.join(', ')}.`,
          ]
        : [`Organization/${organizationId} has no nested Organizations today.`],
    riskFlags: organizationRiskFlags(organizationId, descendants),
  };
}

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const present = (state: Parameters<typeof presentService>[0]) =>
    presentService(state, services.environments);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/review-queue',
      tags: [TAGS.admin],
      security: bearerAuth,
      summary: 'Services under review, oldest submission first, with waiting time',
      request: { query: z.object(PageQuery) },
      responses: {
        200: ok(pageOf(ReviewQueueItem, 'ReviewQueuePage'), 'A page of the queue'),
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'admin');
      const query = c.req.valid('query');
      const page = await reviewQueue(services.db, query.cursor, query.limit);
      const now = services.now().getTime();
      const items = page.items.map(({ summary, submittedAt }) => {
        const change = summary.status === 'active' && summary.pendingChange?.state === 'under_review';
        return {
          ...present(summary),
          submittedAt,
          change,
          waitingSeconds: Math.max(0, Math.floor((now - Date.parse(submittedAt)) / 1000)),
        };
      });
      return json(c, { items, nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/backend-services',
      tags: [TAGS.admin],
      security: bearerAuth,
      summary: 'All services, newest first, with filters',
      request: { query: AdminListQuery },
      responses: {
        200: ok(pageOf(ServiceSchema, 'AdminServicePage'), 'A page of services'),
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'admin');
      const q = c.req.valid('query');
      const page = await listServices(services.db, {
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.ownerId ? { ownerId: q.ownerId } : {}),
        ...(q.organizationId ? { organizationId: q.organizationId } : {}),
        ...(q.includeDeleted === 'true' ? { includeDeleted: true } : {}),
        ...(q.health ? { health: q.health } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return jsonText(c, services.listPage(page), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/backend-services/{id}',
      tags: [TAGS.admin],
      security: bearerAuth,
      summary: 'Any service, deleted ones included, with its full history',
      request: { params: ServiceIdParam },
      responses: {
        200: ok(AdminServiceDetail, 'The service and its history, oldest first'),
        ...serviceErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'admin');
      const { id } = c.req.valid('param');
      const row = await findService(services.db, id);
      if (!row) throw notFound();
      const history = await serviceHistory(services.db, id);
      return json(c, { ...present(row.state), history }, 200, { ETag: etagOf(row.state) });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/backend-services/{id}/production-policies',
      tags: [TAGS.admin],
      security: bearerAuth,
      summary: 'The access policies production will get (derived at submit), with their hash',
      request: { params: ServiceIdParam },
      responses: {
        200: ok(ProductionPoliciesResponse, 'What approval applies'),
        ...serviceErrors,
        409: transitionErrors[409],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadServiceForAdmin(services.db, id, c.var.principal);
      // A live service's change under review is what an approval would apply; the live review is the "before".
      const change = changeUnderReview(row.state);
      const submission = submissionUnderReview(row.state) ?? row.state.submission;
      if (!submission) {
        throw new ApiProblem(
          'invalid-transition',
          'The service has never been submitted: no production policies are derived yet.',
          {
            currentStatus: row.state.status,
          },
        );
      }
      const binding = await organizationBinding(services, submission.registration.organizationId);
      return json(
        c,
        {
          serviceId: id,
          revision: submission.revision,
          submittedAt: submission.submittedAt,
          policyHash: submission.productionPolicies.policyHash,
          policies: submission.productionPolicies.policies,
          notes: [...submission.productionPolicies.notes, ...binding.notes],
          scopes: submission.registration.scopes.strings,
          riskFlags: [
            ...scopeRiskFlags(parseScopeList(submission.registration.scopes.strings).scopes),
            ...binding.riskFlags,
          ],
          previousSubmission: previousReview(change ? row.state.submission : row.state.previousSubmission),
          change,
          policyDiff: change && row.state.submission ? policyDiff(row.state.submission, submission) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/backend-services/{id}/approve',
      tags: [TAGS.admin],
      security: bearerAuth,
      summary: 'Approve what was reviewed ({ revision, policyHash }); production provisioning follows (202)',
      request: { params: ServiceIdParam, headers: IdempotencyKeyHeader, body: jsonBody(ApproveBody) },
      responses: {
        202: ok(ServiceSchema, 'Accepted: approval.state is provisioning until production has the client'),
        ...transitionErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.var.principal;
      const row = await loadServiceForAdmin(services.db, id, principal);
      const body = c.req.valid('json');
      // Self-approval, like every other refusal, is the workflow's rule (rules.ts refuseApprove).
      return runIdempotent(c, services, { body }, async ({ updateId, deadline }) => {
        const updated = await applyUpdate(
          services,
          row,
          approveUpdate,
          { actor: actorOf(c), ...body },
          updateId,
          deadline,
        );
        return {
          status: 202,
          body: present(updated.state),
          headers: { ETag: etagOf(updated.state) },
        };
      });
    },
  );

  for (const [action, definition, summary] of [
    ['reject', rejectUpdate, 'Decline a service under review, with a reason'],
    ['deactivate', deactivateUpdate, 'Deactivate a live service (final); production stops working'],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/v1/admin/backend-services/{id}/${action}`,
        tags: [TAGS.admin],
        security: bearerAuth,
        summary,
        request: { params: ServiceIdParam, headers: IdempotencyKeyHeader, body: jsonBody(ReasonBody) },
        responses: { 200: ok(ServiceSchema, 'The service, rejected'), ...transitionErrors },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const row = await loadServiceForAdmin(services.db, id, c.var.principal);
        const body = c.req.valid('json');
        return runIdempotent(c, services, { body }, async ({ updateId, deadline }) => {
          const updated = await applyUpdate(
            services,
            row,
            definition,
            { actor: actorOf(c), reason: body.reason },
            updateId,
            deadline,
          );
          return {
            status: 200,
            body: present(updated.state),
            headers: { ETag: etagOf(updated.state) },
          };
        });
      },
    );
  }
}
