import { describe, expect, it } from 'vitest';
import { createDetailCache } from './detail-cache.js';

const entry = (version: string) => ({ version, value: `built from ${version}` });

describe('the detail cache', () => {
  it('answers only for the version it was built from', () => {
    const cache = createDetailCache<string>(10);
    cache.set('bs-a', entry('3/100'));
    expect(cache.get('bs-a', '3/100')?.value).toBe('built from 3/100');
    // The same projection version rewritten by another transaction (a new xmin) is a miss, and the stale entry goes.
    expect(cache.get('bs-a', '3/101')).toBeUndefined();
    expect(cache.get('bs-a', '3/100')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most its size, dropping the least recently used', () => {
    const cache = createDetailCache<string>(2);
    cache.set('bs-a', entry('1'));
    cache.set('bs-b', entry('1'));
    expect(cache.get('bs-a', '1')).toBeDefined();
    cache.set('bs-c', entry('1'));
    expect(cache.get('bs-b', '1')).toBeUndefined();
    expect(cache.get('bs-a', '1')).toBeDefined();
    expect(cache.get('bs-c', '1')).toBeDefined();
  });

  it('size 0 turns it off', () => {
    const cache = createDetailCache<string>(0);
    cache.set('bs-a', entry('1'));
    expect(cache.get('bs-a', '1')).toBeUndefined();
  });
});
