/**
 * SMART permissions: the five v2 letters, their order, and how v1 and the registration form map onto
 * them (SMART App Launch 2.x, "Scopes and Launch Context", scope syntax and v1 → v2 mapping;
 * docs/smart-rules.md §3.4 S1, S2).
 */

/** A v2 permission letter: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** The canonical order of v2 permission letters ("cruds"). */
export const CRUDS: readonly Permission[] = Object.freeze(['c', 'r', 'u', 'd', 's']);

/** The registration form's operation names (docs/api.md `scopes.rules[].operations`). */
export type Operation = 'create' | 'read' | 'update' | 'delete' | 'search';

export const OPERATIONS: readonly Operation[] = Object.freeze([
  'create',
  'read',
  'update',
  'delete',
  'search',
]);

export const PERMISSION_OF_OPERATION: Readonly<Record<Operation, Permission>> = Object.freeze({
  create: 'c',
  read: 'r',
  update: 'u',
  delete: 'd',
  search: 's',
});

export const OPERATION_OF_PERMISSION: Readonly<Record<Permission, Operation>> = Object.freeze({
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
});

/** v1 permission words and the v2 letters each stands for (docs/smart-rules.md §3.4 S2). */
export type V1Permission = 'read' | 'write' | '*';

export const V1_READ: readonly Permission[] = Object.freeze(['r', 's']);
export const V1_WRITE: readonly Permission[] = Object.freeze(['c', 'u', 'd']);

export const PERMISSIONS_OF_V1: Readonly<Record<V1Permission, readonly Permission[]>> = Object.freeze({
  read: V1_READ,
  write: V1_WRITE,
  '*': CRUDS,
});

/** Sorts and de-duplicates letters into `cruds` order. */
export function inCrudsOrder(permissions: Iterable<Permission>): Permission[] {
  const present = new Set(permissions);
  return CRUDS.filter((p) => present.has(p));
}

/** The v2 string of a permission set, e.g. `rs`. */
export function permissionString(permissions: Iterable<Permission>): string {
  return inCrudsOrder(permissions).join('');
}

/** True when every letter of `inner` is in `outer`. */
export function permissionsCover(outer: Iterable<Permission>, inner: Iterable<Permission>): boolean {
  const granted = new Set(outer);
  for (const p of inner) if (!granted.has(p)) return false;
  return true;
}

/** The v1 word for a permission set, or null when the set is not made of whole v1 groups. */
export function v1PermissionFor(permissions: Iterable<Permission>): V1Permission | null {
  const key = permissionString(permissions);
  if (key === 'cruds') return '*';
  if (key === 'rs') return 'read';
  if (key === 'cud') return 'write';
  return null;
}

/** Write letters (anything that changes data): flagged for reviewers (docs/smart-rules.md §3.4 S10). */
export function isWritePermission(p: Permission): boolean {
  return p === 'c' || p === 'u' || p === 'd';
}
