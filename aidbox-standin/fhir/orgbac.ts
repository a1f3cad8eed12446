/**
 * Organization-based access control (docs/aidbox-contract.md §3):
 * - a resource written through `/Organization/<org>/fhir/...` is stamped with the
 *   `https://aidbox.app/tenant-organization-id` meta extension naming that organization;
 * - it is visible through its own organization's API and every ancestor's (via `Organization.partOf`);
 *   siblings and descendants get 403;
 * - resources written at the root API carry no tenant and are not visible through organization APIs
 *   (the "system-shared" and "shared" modes of newer Aidbox are not modelled).
 */
import type { Resource, ResourceStore } from '../store/store.js';

export const TENANT_EXTENSION = 'https://aidbox.app/tenant-organization-id';

type Extension = { url?: string; valueReference?: { reference?: string } };

export function tenantOf(resource: Resource): string | undefined {
  const extensions = (resource.meta?.extension ?? []) as Extension[];
  const reference = extensions.find((e) => e?.url === TENANT_EXTENSION)?.valueReference?.reference;
  return reference?.startsWith('Organization/') ? reference.slice('Organization/'.length) : undefined;
}

/** Sets the tenant binding, replacing any other (a write through org B's API belongs to B). */
export function stampTenant(body: Record<string, unknown>, organizationId: string): Record<string, unknown> {
  const meta =
    typeof body.meta === 'object' && body.meta !== null ? (body.meta as Record<string, unknown>) : {};
  const others = ((meta.extension ?? []) as Extension[]).filter((e) => e?.url !== TENANT_EXTENSION);
  return {
    ...body,
    meta: {
      ...meta,
      extension: [
        ...others,
        { url: TENANT_EXTENSION, valueReference: { reference: `Organization/${organizationId}` } },
      ],
    },
  };
}

/** The organization and its ancestors, nearest first (cycles in partOf are cut). */
export function ancestry(store: ResourceStore, organizationId: string): string[] {
  const chain: string[] = [];
  let current: string | undefined = organizationId;
  while (current !== undefined && !chain.includes(current)) {
    chain.push(current);
    const org = store.get('Organization', current);
    const parent = (org?.partOf as { reference?: string } | undefined)?.reference;
    current = parent?.startsWith('Organization/') ? parent.slice('Organization/'.length) : undefined;
  }
  return chain;
}

/** Visible through `viewerOrganizationId`'s API: its own resources and its descendants'. */
export function isVisibleTo(store: ResourceStore, resource: Resource, viewerOrganizationId: string): boolean {
  const tenant = tenantOf(resource);
  return tenant !== undefined && ancestry(store, tenant).includes(viewerOrganizationId);
}
