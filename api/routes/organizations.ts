import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Services } from '../context.js';
import { commonErrors, pageOf } from '../schemas/common.js';
import { OrganizationSchema, OrganizationsQuery } from '../schemas/organizations.js';
import { requireRole } from '../services/access.js';
import { TAGS, bearerAuth, json, ok } from './openapi-helpers.js';

export function registerOrganizationRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/organizations',
      tags: [TAGS.organizations],
      security: bearerAuth,
      summary: 'Organizations a service may be bound to (production Aidbox; empty when OrgBAC is off)',
      request: { query: OrganizationsQuery },
      responses: {
        200: ok(pageOf(OrganizationSchema, 'OrganizationPage'), 'A page of Organizations'),
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'developer', 'admin');
      const q = c.req.valid('query');
      const page = await services.organizations.list({
        limit: q.limit,
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return json(c, page, 200);
    },
  );
}
