/**
 * The stand-in's resource store, in memory, with Aidbox REST semantics (docs/aidbox-contract.md §6
 * and 9.1): versioned resources (`meta.versionId`, `meta.lastUpdated`), `If-Match` (412), tombstones
 * so a read of a deleted resource answers 410, full history, and snapshots for atomic transaction
 * bundles.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { HttpError, conflict, notFound } from '../http/outcome.js';

export interface Resource {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string; extension?: unknown[]; [key: string]: unknown };
  [key: string]: unknown;
}

interface Entry {
  current: Resource | undefined; // undefined once deleted
  versions: Resource[];
}

/** What an atomic transaction bundle undoes when an entry fails (see `snapshot`). */
export interface Snapshot {
  undo: Array<() => void>;
}

export type ReadResult = { state: 'found'; resource: Resource } | { state: 'deleted' } | { state: 'absent' };

const clone = <T>(value: T): T => structuredClone(value);

/** `W/"3"`, `"3"` and `3` all name version 3 (FHIR ETag spellings). */
export function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return '*';
  return trimmed.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export class ResourceStore {
  private tables = new Map<string, Map<string, Entry>>();
  private txid = 0;
  /** The transaction bundle whose entry is running, if any (its writes record their undo). */
  private transaction = new AsyncLocalStorage<Snapshot>();

  /** The state of `type/id` before a write: its current resource and how many versions it had. */
  private preImage(table: Map<string, Entry>, id: string) {
    const entry = table.get(id);
    return entry && { current: entry.current, versions: entry.versions.length };
  }

  /**
   * After a write inside a transaction: how to put `type/id` back. Only the transaction's own writes
   * are journalled, and an undo leaves alone a resource another request has written since: that
   * write came after and stands (a database would have made it wait for the transaction instead).
   */
  private journal(
    table: Map<string, Entry>,
    id: string,
    before: ReturnType<ResourceStore['preImage']>,
    written: Resource | undefined,
  ): void {
    const snapshot = this.transaction.getStore();
    if (!snapshot) return;
    snapshot.undo.push(() => {
      const now = table.get(id);
      if (!now || now.current !== written) return;
      if (!before) table.delete(id);
      else {
        now.current = before.current;
        now.versions.length = before.versions;
      }
    });
  }

  private table(type: string): Map<string, Entry> {
    let table = this.tables.get(type);
    if (!table) {
      table = new Map();
      this.tables.set(type, table);
    }
    return table;
  }

  read(type: string, id: string): ReadResult {
    const entry = this.tables.get(type)?.get(id);
    if (!entry) return { state: 'absent' };
    if (!entry.current) return { state: 'deleted' };
    return { state: 'found', resource: clone(entry.current) };
  }

  /** The current resource or undefined (absent or deleted). */
  get(type: string, id: string): Resource | undefined {
    const result = this.read(type, id);
    return result.state === 'found' ? result.resource : undefined;
  }

  list(type: string): Resource[] {
    return [...(this.tables.get(type)?.values() ?? [])].flatMap((entry) =>
      entry.current ? [clone(entry.current)] : [],
    );
  }

  /**
   * The current resources of a type, uncopied, for read-only scans on every request (the policy
   * engine, token lookup): copying them all per request made each request cost as much as the
   * store holds. Callers must not change what they get.
   */
  scan(type: string): readonly Readonly<Resource>[] {
    return [...(this.tables.get(type)?.values() ?? [])].flatMap((entry) =>
      entry.current ? [entry.current] : [],
    );
  }

  history(type: string, id: string): Resource[] {
    return clone(this.tables.get(type)?.get(id)?.versions ?? []).reverse();
  }

  version(type: string, id: string, versionId: string): Resource | undefined {
    const found = this.tables
      .get(type)
      ?.get(id)
      ?.versions.find((v) => v.meta?.versionId === versionId);
    return found ? clone(found) : undefined;
  }

  private checkIfMatch(type: string, id: string, ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    const current = this.get(type, id);
    // `If-Match: *` means update-only: 412 when absent (section 6). A version mismatch is a conflict
    // whose status Aidbox docs do not show; FHIR says 412.
    if (!current) throw new HttpError(412, 'conflict', `${type}/${id} does not exist (If-Match)`);
    if (ifMatch !== '*' && current.meta?.versionId !== ifMatch) {
      throw new HttpError(
        412,
        'conflict',
        `Version conflict: ${type}/${id} is at version ${current.meta?.versionId}, If-Match named ${ifMatch}`,
      );
    }
  }

  private write(type: string, id: string, body: Record<string, unknown>): Resource {
    this.txid += 1;
    const meta =
      typeof body.meta === 'object' && body.meta !== null
        ? { ...(body.meta as Record<string, unknown>) }
        : {};
    const { resourceType: _type, id: _id, meta: _meta, ...rest } = body;
    const resource: Resource = {
      resourceType: type,
      id,
      ...rest,
      meta: { ...meta, versionId: String(this.txid), lastUpdated: new Date().toISOString() },
    };
    const table = this.table(type);
    const before = this.preImage(table, id);
    const entry = table.get(id) ?? { current: undefined, versions: [] };
    entry.current = resource;
    entry.versions.push(clone(resource));
    table.set(id, entry);
    this.journal(table, id, before, resource);
    return clone(resource);
  }

  /** PUT: create-or-update (201/200), the URL id wins over the body id (section 6). */
  put(
    type: string,
    id: string,
    body: Record<string, unknown>,
    ifMatch?: string,
  ): { created: boolean; resource: Resource } {
    this.checkIfMatch(type, id, ifMatch);
    const created = this.get(type, id) === undefined;
    return { created, resource: this.write(type, id, body) };
  }

  /** POST: the FHIR API assigns an id; the Aidbox-format API honours a body id and answers 409 if taken (section 6). */
  create(type: string, body: Record<string, unknown>, honourBodyId: boolean): Resource {
    const wanted = honourBodyId && typeof body.id === 'string' ? body.id : undefined;
    if (wanted !== undefined && this.get(type, wanted)) throw conflict(`${type}/${wanted} already exists`);
    return this.write(type, wanted ?? randomUUID(), body);
  }

  /** Replaces an existing resource with `next` (used by PATCH after the patch was applied). */
  update(type: string, id: string, next: Record<string, unknown>, ifMatch?: string): Resource {
    this.checkIfMatch(type, id, ifMatch);
    if (!this.get(type, id)) throw notFound(`${type}/${id}`);
    return this.write(type, id, next);
  }

  /** DELETE: the deleted resource, or undefined when there was nothing (section 6: 200 vs 204). */
  delete(type: string, id: string, ifMatch?: string): Resource | undefined {
    const current = this.get(type, id);
    if (current && ifMatch !== undefined) this.checkIfMatch(type, id, ifMatch);
    if (!current) return undefined;
    this.txid += 1;
    const table = this.table(type);
    const before = this.preImage(table, id);
    const entry = table.get(id);
    if (entry) entry.current = undefined;
    this.journal(table, id, before, undefined);
    return current;
  }

  /**
   * For atomic transaction bundles: the writes made `within` the snapshot record their undo, so
   * `restore` puts back exactly what the transaction touched (a copy of the whole store per bundle
   * made each bundle cost as much as everything stored), and nothing another request wrote
   * meanwhile. Version IDs stay unique: a rolled-back transaction's are not handed out again, as
   * PostgreSQL does not reuse the transaction IDs of an aborted transaction (Aidbox's own
   * numbering under rollback: unverified).
   */
  snapshot(): Snapshot {
    return { undo: [] };
  }

  /** Runs one entry of the transaction: its writes are journalled in `snapshot`. */
  within<T>(snapshot: Snapshot, run: () => Promise<T>): Promise<T> {
    return this.transaction.run(snapshot, run);
  }

  commit(snapshot: Snapshot): void {
    snapshot.undo.length = 0;
  }

  restore(snapshot: Snapshot): void {
    for (const undo of snapshot.undo.reverse()) undo();
    snapshot.undo.length = 0;
  }
}
