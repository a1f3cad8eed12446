import { isOrganizationId } from '../scopes/derive.js';
import { unavailable, validationError } from './problems.js';

/**
 * Organizations a service may be bound to (docs/api.md: `GET /v1/organizations`), read from the
 * production Aidbox. Injected: the Aidbox client (aidbox/) provides the real one.
 */
export interface Organization {
  id: string;
  name: string | null;
  /** The parent Organization's id, if any. */
  partOf: string | null;
}

export interface OrganizationDirectory {
  list(query: {
    search?: string;
    cursor?: string;
    limit: number;
  }): Promise<{ items: Organization[]; nextCursor: string | null }>;
  /** Whether the production Aidbox has this Organization; registration refuses an unknown one. */
  exists(id: string): Promise<boolean>;
  /**
   * The Organizations nested under this one (children, their children, …), sorted. Under Aidbox
   * OrgBAC a client bound to an Organization also reads its descendants' data: "Every organization
   * has access to their own resources and to the nested organization resources"
   * (https://github.com/Aidbox/documentation/blob/master/modules-1/security-and-access-control/multitenancy/organization-based-hierarchical-access-control.md).
   */
  descendants(id: string): Promise<string[]>;
}

/** OrgBAC off: services bind to no Organization, so there is none to list. */
export const noOrganizations: OrganizationDirectory = {
  async list() {
    return { items: [], nextCursor: null };
  },
  async exists() {
    return false;
  },
  async descendants() {
    return [];
  },
};

/** OrgBAC on but no production Aidbox client wired: say so with a 503 rather than an empty list. */
export const organizationsNotConfigured: OrganizationDirectory = {
  async list() {
    throw unavailable('The production Aidbox is not configured for listing Organizations.', 30);
  },
  async exists() {
    throw unavailable('The production Aidbox is not configured for checking Organizations.', 30);
  },
  async descendants() {
    throw unavailable('The production Aidbox is not configured for checking Organizations.', 30);
  },
};

/** Bounds of the descendant walk: a cycle or a huge tree must not keep a review page waiting. */
const MAX_DESCENDANTS = 200;

/** The production Aidbox's Organizations (aidbox/client.ts); the cursor is the next search page. */
export function aidboxOrganizationDirectory(production: {
  listOrganizations(options: { name?: string; count?: number; page?: number }): Promise<{
    resources: Array<{ id: string; name?: string; partOf?: { reference?: string } }>;
    nextPage?: number;
  }>;
  readOrganization(id: string): Promise<unknown>;
  listChildOrganizations(id: string): Promise<Array<{ id: string }>>;
}): OrganizationDirectory {
  return {
    async list({ search, cursor, limit }) {
      if (cursor !== undefined && !/^[1-9]\d{0,5}$/.test(cursor)) {
        throw validationError(
          [{ field: 'cursor', message: 'not a cursor this API returned; start again from the first page' }],
          'The cursor is not valid.',
        );
      }
      const page = cursor ? Number(cursor) : 1;
      const result = await production.listOrganizations({
        ...(search ? { name: search } : {}),
        count: limit,
        page,
      });
      return {
        items: result.resources.map((o) => ({
          id: o.id,
          name: o.name ?? null,
          partOf: o.partOf?.reference?.replace(/^Organization\//, '') ?? null,
        })),
        nextCursor: result.nextPage !== undefined ? String(result.nextPage) : null,
      };
    },
    async exists(id) {
      // Never put "." or ".." into a URL path: /fhir/Organization/. is the collection search.
      if (!isOrganizationId(id)) return false;
      return (await production.readOrganization(id)) !== undefined;
    },
    async descendants(id) {
      const found = new Set<string>();
      const queue = [id];
      while (queue.length > 0 && found.size < MAX_DESCENDANTS) {
        const parent = queue.shift()!;
        for (const child of await production.listChildOrganizations(parent)) {
          if (child.id === id || found.has(child.id)) continue; // a cycle in partOf
          found.add(child.id);
          queue.push(child.id);
        }
      }
      return [...found].sort();
    },
  };
}
