/**
 * The detail route's answers, kept per service for as long as its read-model row does not change.
 *
 * A detail is read far more often than it changes (portals poll it while a job runs), and
 * building it is most of the route's cost: PostgreSQL detoasts and sends the whole state, the
 * driver parses it, the presenter rebuilds it and JSON.stringify writes it again. The route
 * therefore reads the row's narrow head first (owner, deletion, version: one primary-key read that
 * never touches `state`) and answers from here when the head's version matches.
 *
 * The version is `projection_version` plus the row's `xmin`, the id of the transaction that wrote
 * this row version (https://www.postgresql.org/docs/15/ddl-system-columns.html): every write of a
 * row, even a rewrite at the same projection version, gives it a new xmin, so an entry can never
 * outlive the row it was built from, in this process or across API replicas (each has its own).
 */
export interface CachedDetail {
  version: string;
  body: string;
  etag: string;
}

/** Entries kept; at a few KiB each, the default costs a few MiB (DETAIL_CACHE_ENTRIES). */
export const DEFAULT_DETAIL_CACHE_ENTRIES = 2_000;

export interface DetailCache {
  get(id: string, version: string): CachedDetail | undefined;
  set(id: string, entry: CachedDetail): void;
  readonly size: number;
}

/** A least-recently-used map: a Map keeps insertion order, so re-inserting on a hit moves an entry last. */
export function createDetailCache(maxEntries = DEFAULT_DETAIL_CACHE_ENTRIES): DetailCache {
  const entries = new Map<string, CachedDetail>();
  return {
    get(id, version) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      entries.delete(id);
      if (entry.version !== version) return undefined;
      entries.set(id, entry);
      return entry;
    },
    set(id, entry) {
      if (maxEntries <= 0) return;
      entries.delete(id);
      entries.set(id, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}
