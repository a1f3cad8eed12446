import { z } from '@hono/zod-openapi';
import { singleLineText } from '../text-fields.js';
import { PageQuery } from './common.js';

/** The Organizations a service may be bound to (OrgBAC). */

export const OrganizationSchema = z
  .object({ id: z.string(), name: z.string().nullable(), partOf: z.string().nullable() })
  .openapi('Organization');

export const OrganizationsQuery = z.object({
  search: singleLineText('search').max(200).optional(),
  ...PageQuery,
});
