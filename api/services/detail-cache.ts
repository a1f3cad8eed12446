/**
 * The detail route's answers, kept per service for as long as its read-model row does not change.
 *
 * A detail is read far more often than it changes (portals poll it while a job runs), and most of
 * the route's cost is the state: PostgreSQL detoasts and sends it, the driver parses it, the
 * presenter rebuilds it. The route therefore reads the row's narrow head first (owner, deletion,
 * version: one primary-key read that never touches `state`) and takes the state and its
 * presentation from here when the head's version matches. What the caller may do with it
 * (allowedActions) is still decided per request.
 *
 * The version is `projection_version` plus the row's `xmin`, the id of the transaction that wrote
 * this row version (https://www.postgresql.org/docs/15/ddl-system-columns.html): every write of a
 * row, even a rewrite at the same projection version, gives it a new xmin, so an entry can never
 * outlive the row it was built from, in this process or across API replicas (each has its own).
 */
export interface CachedDetail<T> {
  version: string;
  value: T;
}

export interface DetailCache<T> {
  get(id: string, version: string): CachedDetail<T> | undefined;
  set(id: string, entry: CachedDetail<T>): void;
  readonly size: number;
}

/** A least-recently-used map: a Map keeps insertion order, so re-inserting on a hit moves an entry last. */
/** At most `maxEntries` (DETAIL_CACHE_ENTRIES); 0 keeps nothing. */
export function createDetailCache<T>(maxEntries: number): DetailCache<T> {
  const entries = new Map<string, CachedDetail<T>>();
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
