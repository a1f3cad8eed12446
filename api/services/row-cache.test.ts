import { describe, expect, it } from 'vitest';
import { createRowCache } from './row-cache.js';

const entry = (version: string) => ({ version, value: `built from ${version}` });
/** A read of `id` that stores what it built from `version`, as the detail reader does. */
const fill = (cache: ReturnType<typeof createRowCache<string>>, id: string, version: string) => {
  const ticket = cache.begin(id);
  cache.set(ticket, entry(version));
  ticket.end();
};

describe('the detail cache', () => {
  it('checked: answers only for the version it was built from', () => {
    const cache = createRowCache<string>(10);
    fill(cache, 'bs-a', '3/100');
    expect(cache.get('bs-a', '3/100')?.value).toBe('built from 3/100');
    // The same projection version rewritten by another transaction (a new xmin) is a miss, and the stale entry goes.
    expect(cache.get('bs-a', '3/101')).toBeUndefined();
    expect(cache.get('bs-a', '3/100')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('trusted: any entry answers until its row is announced as changed', () => {
    const cache = createRowCache<string>(10);
    fill(cache, 'bs-a', '3/100');
    fill(cache, 'bs-b', '1/7');
    expect(cache.get('bs-a')?.value).toBe('built from 3/100');
    cache.invalidate('bs-a');
    expect(cache.get('bs-a')).toBeUndefined();
    expect(cache.get('bs-b')?.value).toBe('built from 1/7');
    cache.reset();
    expect(cache.get('bs-b')).toBeUndefined();
  });

  it('a read overlapping a change of its row keeps nothing; one overlapping another row’s change does', () => {
    const cache = createRowCache<string>(10);
    const a = cache.begin('bs-a');
    const b = cache.begin('bs-b');
    // The announcement arrives while the reads are in flight: what they read may predate the change.
    cache.invalidate('bs-a');
    cache.set(a, entry('3/100'));
    cache.set(b, entry('1/7'));
    a.end();
    b.end();
    expect(cache.get('bs-a')).toBeUndefined();
    expect(cache.get('bs-b')?.value).toBe('built from 1/7');
    // The next read of the row, begun after the announcement, is kept.
    fill(cache, 'bs-a', '4/120');
    expect(cache.get('bs-a')?.value).toBe('built from 4/120');
  });

  it('negative control: without the announcement the overlapping read is kept (stale)', () => {
    const cache = createRowCache<string>(10);
    const a = cache.begin('bs-a');
    cache.set(a, entry('3/100'));
    a.end();
    expect(cache.get('bs-a')?.value).toBe('built from 3/100');
  });

  it('a reset (changes may have gone unheard) voids every read in flight', () => {
    const cache = createRowCache<string>(10);
    const a = cache.begin('bs-a');
    cache.reset();
    cache.set(a, entry('3/100'));
    a.end();
    expect(cache.size).toBe(0);
  });

  it('keeps at most its size, dropping the least recently used', () => {
    const cache = createRowCache<string>(2);
    fill(cache, 'bs-a', '1');
    fill(cache, 'bs-b', '1');
    expect(cache.get('bs-a', '1')).toBeDefined();
    fill(cache, 'bs-c', '1');
    expect(cache.get('bs-b', '1')).toBeUndefined();
    expect(cache.get('bs-a', '1')).toBeDefined();
    expect(cache.get('bs-c', '1')).toBeDefined();
  });

  it('size 0 turns it off', () => {
    const cache = createRowCache<string>(0);
    fill(cache, 'bs-a', '1');
    expect(cache.get('bs-a')).toBeUndefined();
  });
});
