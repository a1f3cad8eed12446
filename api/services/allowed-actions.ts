import type { Principal } from '../auth/principal.js';
import {
  newestRevision,
  submissionUnderReview,
  validatorsByUpdate,
  type Refusal,
} from '../../workflows/backend-service/rules.js';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import { missingRole } from './access.js';

/** A command a service takes: the name of its workflow update. */
export type ServiceAction = keyof typeof validatorsByUpdate;

export const SERVICE_ACTIONS = Object.keys(validatorsByUpdate) as [ServiceAction, ...ServiceAction[]];

/** The administrators' decisions (their validators check the role); the rest are the owner's. */
const ADMIN_ACTIONS: ReadonlySet<ServiceAction> = new Set(['approve', 'reject', 'deactivate']);

export interface ServiceActions {
  allowedActions: ServiceAction[];
  refusedActions: Array<{ action: ServiceAction; reason: string }>;
}

/**
 * What the caller may do with the service now, judged by the workflow's own validators
 * (workflows/backend-service/rules.ts), so a page shows the buttons the API would accept and never
 * decides that itself. Each command is judged as its page sends it: at the newest revision,
 * approving what is under review. An owner's command also needs the developer role, as its route
 * does (loadOwnedService). An accepted command may still fail on a fresh check (a submit whose
 * JWKS fails) or on its input (a reason, a time).
 */
export function serviceActions(state: ServiceState, principal: Principal): ServiceActions {
  const actor = { sub: principal.sub, roles: principal.roles };
  const v = validatorsByUpdate;
  const reviewed = submissionUnderReview(state);
  const reason = 'a reason';
  const verdicts: { [A in ServiceAction]: Refusal | undefined } = {
    edit: v.edit(state, {
      actor,
      expectedRevision: newestRevision(state),
      registration: state.pendingChange?.registration ?? state.registration,
    }),
    submit: v.submit(state, { actor }),
    approve: v.approve(state, {
      actor,
      revision: reviewed?.revision ?? newestRevision(state),
      policyHash: reviewed?.productionPolicies.policyHash ?? '',
    }),
    reject: v.reject(state, { actor, reason }),
    deactivate: v.deactivate(state, { actor, reason }),
    rotateSecret: v.rotateSecret(state, { actor }),
    recheckCredentials: v.recheckCredentials(state, { actor }),
    withdraw: v.withdraw(state, { actor }),
    delete: v.delete(state, { actor }),
    revoke: v.revoke(state, { actor, reason }),
    activateStagedSecret: v.activateStagedSecret(state, { actor }),
    dropStagedSecret: v.dropStagedSecret(state, { actor }),
    dropPendingChange: v.dropPendingChange(state, { actor }),
  };
  const actions: ServiceActions = { allowedActions: [], refusedActions: [] };
  for (const action of SERVICE_ACTIONS) {
    const refused =
      verdicts[action]?.message ?? (ADMIN_ACTIONS.has(action) ? null : missingRole(principal, 'developer'));
    if (refused) actions.refusedActions.push({ action, reason: refused });
    else actions.allowedActions.push(action);
  }
  return actions;
}
