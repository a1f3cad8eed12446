import { describe, expect, it } from 'vitest';
import { ResourceStore } from './store.js';

/**
 * Atomic transaction bundles against concurrent requests: the stand-in serves requests
 * concurrently (each bundle entry awaits), so a rolled-back transaction must undo its own writes
 * only, and never hand out a version ID twice.
 */
const versionOf = (store: ResourceStore, id: string) => store.get('Patient', id)?.meta?.versionId;

describe('a rolled-back transaction bundle', () => {
  it('undoes its own writes and keeps what another request wrote meanwhile', async () => {
    const store = new ResourceStore();
    store.put('Patient', 'kept', { name: 'before' });
    store.put('Patient', 'shared', { name: 'before' });
    const transaction = store.snapshot();
    await store.within(transaction, async () => {
      store.put('Patient', 'kept', { name: 'by the transaction' });
      store.put('Patient', 'shared', { name: 'by the transaction' });
      store.put('Patient', 'new', { name: 'by the transaction' });
    });
    // Another request, between two entries of the transaction.
    store.put('Patient', 'other', { name: 'by another request' });
    store.put('Patient', 'shared', { name: 'by another request' });
    store.restore(transaction);

    expect(store.get('Patient', 'kept')?.name).toBe('before');
    expect(store.get('Patient', 'new')).toBeUndefined();
    expect(store.get('Patient', 'other')?.name).toBe('by another request');
    expect(store.get('Patient', 'shared')?.name).toBe('by another request');
  });

  it('never hands out its version IDs again', async () => {
    const store = new ResourceStore();
    const transaction = store.snapshot();
    let rolledBack: string | undefined;
    await store.within(transaction, async () => {
      rolledBack = store.put('Patient', 'a', { name: 'rolled back' }).resource.meta?.versionId;
    });
    store.restore(transaction);
    store.put('Patient', 'b', { name: 'after' });
    expect(versionOf(store, 'b')).not.toBe(rolledBack);
    expect(Number(versionOf(store, 'b'))).toBeGreaterThan(Number(rolledBack));
  });

  it('a committed transaction keeps its writes (negative control: restore after commit undoes nothing)', async () => {
    const store = new ResourceStore();
    const transaction = store.snapshot();
    await store.within(transaction, async () => {
      store.put('Patient', 'a', { name: 'committed' });
    });
    store.commit(transaction);
    store.restore(transaction);
    expect(store.get('Patient', 'a')?.name).toBe('committed');
  });
});
