import type { ServiceAction, ServiceDetail } from './api-client.js';

/**
 * Whether the API would take `action` from the signed-in user now: the service detail's
 * `allowedActions`, judged by the workflow's own validators. The pages offer a command only then
 * and never decide that themselves; they only choose how to show it.
 */
export const allows = (service: Pick<ServiceDetail, 'allowedActions'>, action: ServiceAction): boolean =>
  service.allowedActions.includes(action);

/** Why the API would refuse `action`, in its own words, or null when it is allowed. */
export const refusalOf = (
  service: Pick<ServiceDetail, 'refusedActions'>,
  action: ServiceAction,
): string | null => service.refusedActions.find((refused) => refused.action === action)?.reason ?? null;
