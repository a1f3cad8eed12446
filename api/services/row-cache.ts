/**
 * What the read routes built from a read-model row, kept for as long as the row does not change:
 * the detail's state and answers (api/services/service-detail.ts), the lists' presented items
 * (api/services/list-items.ts).
 *
 * A service is read far more often than it changes (portals poll it while a job runs), and most of
 * a read's cost was the state: PostgreSQL detoasts and sends it, the driver parses it, the
 * presenter rebuilds it, JSON serialises it. An entry is the row's version with what was built
 * from it. It is served in one of two ways:
 *
 * - **Trusted**, without asking PostgreSQL, while the change feed is live
 *   (api/services/service-changes.ts): every committed write of a row is announced and evicts its
 *   entry (`invalidate`), and a feed that may have missed one clears everything (`reset`).
 * - **Checked** otherwise: the route reads the row's narrow head and an entry answers only when its
 *   version matches. The version is `projection_version` plus the row's `xmin`, the id of the
 *   transaction that wrote this row version
 *   (https://www.postgresql.org/docs/15/ddl-system-columns.html): every write, even a rewrite at the
 *   same projection version, gives it a new xmin.
 *
 * A read that overlaps a change must not store what it read: the change's announcement may arrive
 * before the read's result. So a read that may fill the cache holds a ticket (`begin`), which an
 * announcement for its row (or a reset) voids, and `set` keeps the entry only for a valid ticket.
 */
export interface CachedRow<T> {
  version: string;
  value: T;
}

export interface ReadTicket {
  readonly id: string;
  /** Always called when the read is over (stored or not): the cache stops tracking it. */
  end(): void;
}

export interface RowCache<T> {
  /** The entry built from exactly this row version, or with `version` undefined (trusted) any entry. */
  get(id: string, version?: string): CachedRow<T> | undefined;
  /** Starts a read whose result may be kept. */
  begin(id: string): ReadTicket;
  /** Keeps the entry, unless the row changed (or the cache was reset) since the ticket was taken. */
  set(ticket: ReadTicket, entry: CachedRow<T>): void;
  /** The row changed: drop its entry and void the tickets of reads in flight. */
  invalidate(id: string): void;
  /** Changes may have gone unheard: drop everything and void every ticket. */
  reset(): void;
  readonly size: number;
}

interface Ticket extends ReadTicket {
  valid: boolean;
}

/**
 * A least-recently-used map of at most `maxEntries` (DETAIL_CACHE_ENTRIES, LIST_CACHE_ENTRIES); 0 keeps nothing. A Map
 * keeps insertion order, so re-inserting on a hit moves an entry last.
 */
export function createRowCache<T>(maxEntries: number): RowCache<T> {
  const entries = new Map<string, CachedRow<T>>();
  const reading = new Map<string, Set<Ticket>>();
  const voidTickets = (tickets: Set<Ticket> | undefined) => {
    for (const ticket of tickets ?? []) ticket.valid = false;
  };
  return {
    get(id, version) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      entries.delete(id);
      if (version !== undefined && entry.version !== version) return undefined;
      entries.set(id, entry);
      return entry;
    },
    begin(id) {
      const ticket: Ticket = {
        id,
        valid: true,
        end() {
          const tickets = reading.get(id);
          tickets?.delete(ticket);
          if (tickets?.size === 0) reading.delete(id);
        },
      };
      let tickets = reading.get(id);
      if (!tickets) reading.set(id, (tickets = new Set()));
      tickets.add(ticket);
      return ticket;
    },
    set(ticket, entry) {
      if (maxEntries <= 0 || !(ticket as Ticket).valid) return;
      entries.delete(ticket.id);
      entries.set(ticket.id, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    invalidate(id) {
      entries.delete(id);
      voidTickets(reading.get(id));
    },
    reset() {
      entries.clear();
      for (const tickets of reading.values()) voidTickets(tickets);
    },
    get size() {
      return entries.size;
    },
  };
}
