import { describe, expect, it } from 'vitest';
import { createListPages } from './list-items.js';

/** A presenter that counts its calls and shows the summary's name. */
const presenter = () => {
  const calls = { count: 0 };
  const present = (summary: { registration: { name: string } }) => {
    calls.count += 1;
    return { name: summary.registration.name };
  };
  return { present, calls };
};
const row = (id: string, version: string, name: string) => ({
  id,
  version,
  summary: JSON.stringify({ registration: { name } }),
});

describe('list pages', () => {
  it('present each row version once, and a row listed at a new version anew', () => {
    const { present, calls } = presenter();
    const page = createListPages(present as never, 100);
    const first = page({ items: [row('bs-a', '1/10', 'A'), row('bs-b', '1/11', 'B')], nextCursor: 'c1' });
    expect(JSON.parse(first)).toEqual({ items: [{ name: 'A' }, { name: 'B' }], nextCursor: 'c1' });
    page({ items: [row('bs-a', '1/10', 'A'), row('bs-b', '1/11', 'B')], nextCursor: null });
    expect(calls.count).toBe(2);
    const rewritten = page({ items: [row('bs-a', '1/12', 'A renamed')], nextCursor: null });
    expect(JSON.parse(rewritten)).toEqual({ items: [{ name: 'A renamed' }], nextCursor: null });
    expect(calls.count).toBe(3);
  });

  it('negative control: a changed row listed at the version it was cached at is answered stale', () => {
    const { present } = presenter();
    const page = createListPages(present as never, 100);
    page({ items: [row('bs-a', '1/10', 'A')], nextCursor: null });
    expect(JSON.parse(page({ items: [row('bs-a', '1/10', 'A renamed')], nextCursor: null })).items).toEqual([
      { name: 'A' },
    ]);
  });

  it('with the cache off every row is presented every time', () => {
    const { present, calls } = presenter();
    const page = createListPages(present as never, 0);
    page({ items: [row('bs-a', '1/10', 'A')], nextCursor: null });
    page({ items: [row('bs-a', '1/10', 'A')], nextCursor: null });
    expect(calls.count).toBe(2);
  });
});
