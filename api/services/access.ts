import type { Db } from '../../db/database.js';
import { isAdmin, type Principal } from '../auth/principal.js';
import { ApiProblem, forbidden, notFound } from '../problems.js';
import { cutOff } from '../../workflows/backend-service/rules.js';
import { findService, type ServiceRow } from './read-model.js';

/**
 * Who may do what (docs/architecture.md): a developer sees only services they own, others' answer
 * 404; administrators see every service; a visible service with the wrong role answers 403.
 * Owning a service gives no power by itself: an owner whose token lost the `developer` role
 * (and is no administrator) gets 403, before anything reaches Temporal.
 */
export async function loadVisibleService(db: Db, id: string, principal: Principal): Promise<ServiceRow> {
  const row = await findService(db, id);
  requireVisible(row && { ownerId: row.state.ownerId, deletedAt: row.state.deletedAt }, principal);
  return row!;
}

/**
 * The visibility rule on a service's owner and deletion (from its state, or from the read model's
 * columns of the same values). A deleted service is gone for its owner and for these routes;
 * administrators read it (with its history) through GET /v1/admin/backend-services/{id}.
 */
export function requireVisible(
  service: { ownerId: string; deletedAt?: string | null } | undefined,
  principal: Principal,
): void {
  if (!service || service.deletedAt || !(service.ownerId === principal.sub || isAdmin(principal)))
    throw notFound();
  if (!isAdmin(principal)) requireRole(principal, 'developer');
}

/** Owner-only actions, with the developer role: an administrator who does not own the service sees it, but may not act (403). */
export async function loadOwnedService(db: Db, id: string, principal: Principal): Promise<ServiceRow> {
  const row = await loadVisibleService(db, id, principal);
  if (row.state.ownerId !== principal.sub) throw forbidden('Only the owner of the service may do this.');
  requireRole(principal, 'developer');
  return row;
}

/** Administrator-only actions: the owner (not an administrator) sees the service, but may not decide (403). */
export async function loadServiceForAdmin(db: Db, id: string, principal: Principal): Promise<ServiceRow> {
  const row = await loadVisibleService(db, id, principal);
  if (!isAdmin(principal)) throw forbidden('Only administrators may do this.');
  return row;
}

export function requireRole(principal: Principal, ...roles: string[]): void {
  const missing = missingRole(principal, ...roles);
  if (missing) throw forbidden(missing);
}

/** Why the caller may not act with these roles, or null when they hold one of them. */
export function missingRole(principal: Principal, ...roles: string[]): string | null {
  return roles.some((r) => principal.roles.includes(r)) ? null : `This needs the ${roles.join(' or ')} role.`;
}

/**
 * After a deactivation or the owner's revoke the workflow has completed (or is cleaning up): every
 * message answers 409 from the read model.
 */
export function refuseIfDeactivated(row: ServiceRow): void {
  if (cutOff(row.state)) {
    const what = row.state.rejection?.kind === 'revoked-by-owner' ? 'revoked by its owner' : 'deactivated';
    throw new ApiProblem('invalid-transition', `The service is ${what}; it accepts no further changes.`, {
      currentStatus: 'rejected',
    });
  }
}
