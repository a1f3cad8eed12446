import type { z } from '@hono/zod-openapi';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Services } from '../context.js';
import { commonErrors, pageOf } from '../schemas/common.js';
import { OrganizationSchema, OrganizationsQuery } from '../schemas/organizations.js';
import { requireRole } from '../services/access.js';
import { addRoute, json, valid } from './register.js';

export function registerOrganizationRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  addRoute(
    app,
    createRoute({
      method: 'get',
      path: '/v1/organizations',
      tags: ['Organizations'],
      security: [{ bearerAuth: [] }],
      summary: 'Organizations a service may be bound to (production Aidbox; empty when OrgBAC is off)',
      request: { query: OrganizationsQuery },
      responses: {
        200: {
          description: 'A page of Organizations',
          content: { 'application/json': { schema: pageOf(OrganizationSchema, 'OrganizationPage') } },
        },
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'developer', 'admin');
      const q = valid<z.infer<typeof OrganizationsQuery>>(c, 'query');
      const page = await services.organizations.list({
        limit: q.limit,
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return json(page);
    },
  );
}
