import fc from 'fast-check';
import { inject, describe, expect, it, afterAll } from 'vitest';
import { createDb } from '../db/database.js';
import { sql } from 'kysely';
import { propertySeed } from '../test-support/seed.js';
import { escapeForbiddenCharacters, findForbiddenCharacter, sanitizeOutsideValue } from './text-rules.js';

/** Values from outside are kept escaped, never raw: what the workflow holds can always be projected. */

describe('escaping values from outside', () => {
  it('shows a refused character as a visible escape and leaves clean text untouched', () => {
    expect(escapeForbiddenCharacters('nul\u0000kid')).toBe('nul\\u0000kid');
    expect(escapeForbiddenCharacters('x\ud800y\u202e')).toBe('x\\ud800y\\u202e');
    const clean = 'kid-1 🏥';
    expect(escapeForbiddenCharacters(clean)).toBe(clean);
  });

  it('sanitises every string and object key at any depth', () => {
    const dirty = {
      kid: 'nul\u0000kid',
      'key\u0001': [{ deep: ['\ud800'] }],
      n: 1,
      ok: true,
      none: null,
      gone: undefined,
    };
    expect(sanitizeOutsideValue(dirty)).toEqual({
      kid: 'nul\\u0000kid',
      'key\\u0001': [{ deep: ['\\ud800'] }],
      n: 1,
      ok: true,
      none: null,
    });
  });

  it('property: nothing refused survives, and text without refused characters is unchanged', () => {
    const seed = propertySeed('text-safety escape', 20261130);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const escaped = escapeForbiddenCharacters(text);
        expect(findForbiddenCharacter(escaped)).toBeUndefined();
        if (findForbiddenCharacter(text) === undefined) expect(escaped).toBe(text);
      }),
      { seed, numRuns: 2_000 },
    );
  });

  describe('against PostgreSQL', () => {
    const db = createDb(inject('databaseUrl'), { poolSize: 1 });
    afterAll(() => db.destroy());
    const store = (value: unknown) =>
      sql`select ${JSON.stringify(value)}::jsonb as v, ${JSON.stringify(value)}::text as t`.execute(db);

    it('negative control: the raw values are refused by jsonb', async () => {
      await expect(store({ kid: 'nul\u0000kid' })).rejects.toThrow(/Unicode|escape/i);
      await expect(store({ kid: 'lone\ud800' })).rejects.toThrow(/invalid input syntax|surrogate/i);
    });

    it('property: any JSON value from outside, sanitised, is stored as jsonb', async () => {
      const seed = propertySeed('text-safety jsonb', 1130);
      const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });
      await fc.assert(
        fc.asyncProperty(json, async (value) => {
          await store(sanitizeOutsideValue(value));
        }),
        { seed, numRuns: 150 },
      );
    });
  });
});
