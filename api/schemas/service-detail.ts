import { z } from '@hono/zod-openapi';
import { ServiceSchema } from './service.js';
import { SERVICE_ACTIONS } from '../services/allowed-actions.js';

const ServiceAction = z.enum(SERVICE_ACTIONS).openapi({
  description: 'A command the service takes (the route of each: docs/api.md)',
});

/**
 * One service as its detail answers it: the service, and what the caller may do with it now,
 * judged by the workflow's own validators (api/services/allowed-actions.ts). Every command appears
 * once: allowed, or refused with the reason the API would answer.
 */
export const ServiceDetailSchema = ServiceSchema.extend({
  allowedActions: z.array(ServiceAction),
  refusedActions: z.array(z.object({ action: ServiceAction, reason: z.string() })),
}).openapi('ServiceDetail');
