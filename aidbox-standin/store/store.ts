/**
 * The stand-in's resource store, in memory, with Aidbox REST semantics (docs/aidbox-contract.md §6
 * and 9.1): versioned resources (`meta.versionId`, `meta.lastUpdated`), `If-Match` (412), tombstones
 * so a read of a deleted resource answers 410, full history, and snapshots for atomic transaction
 * bundles.
 */
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
  txid: number;
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
  /** Transactions in flight: every write records how to undo itself in each of them. */
  private open = new Set<Snapshot>();

  /** Before `type/id` changes: how to put it back (its current resource and version count). */
  private journal(type: string, id: string): void {
    if (this.open.size === 0) return;
    const table = this.table(type);
    const entry = table.get(id);
    const saved = entry && { current: entry.current, versions: entry.versions.length };
    const undo = () => {
      const now = table.get(id);
      if (!saved || !now) table.delete(id);
      else {
        now.current = saved.current;
        now.versions.length = saved.versions;
      }
    };
    for (const snapshot of this.open) snapshot.undo.push(undo);
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
    this.journal(type, id);
    const table = this.table(type);
    const entry = table.get(id) ?? { current: undefined, versions: [] };
    entry.current = resource;
    entry.versions.push(clone(resource));
    table.set(id, entry);
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
    this.journal(type, id);
    const entry = this.table(type).get(id);
    if (entry) entry.current = undefined;
    return current;
  }

  /**
   * For atomic transaction bundles: from here on every write records its undo, so `restore` puts
   * back exactly what the transaction touched (a copy of the whole store per bundle made each
   * bundle cost as much as everything stored). `commit` ends the recording.
   */
  snapshot(): Snapshot {
    const snapshot: Snapshot = { txid: this.txid, undo: [] };
    this.open.add(snapshot);
    return snapshot;
  }

  commit(snapshot: Snapshot): void {
    this.open.delete(snapshot);
  }

  restore(snapshot: Snapshot): void {
    this.open.delete(snapshot);
    for (const undo of snapshot.undo.reverse()) undo();
    this.txid = snapshot.txid;
  }
}
