import fc from 'fast-check';
import { inject, describe, expect, it, afterAll } from 'vitest';
import { createDb } from '../db/database.js';
import { sql } from 'kysely';
import { propertySeed } from '../test-support/seed.js';
import { escapeForbiddenCharacters, findForbiddenCharacter, sanitizeOutsideValue } from './text-safety.js';

describe('the refused characters', () => {
  it.each([
    ['nul\u0000kid', 'control character', 'U+0000', 3],
    ['bell\u0007', 'control character', 'U+0007', 4],
    ['c1\u0085', 'control character', 'U+0085', 2],
    ['del\u007f', 'control character', 'U+007F', 3],
    ['tab\there', 'control character', 'U+0009', 3],
    ['line\nbreak', 'control character', 'U+000A', 4],
    ['lone \ud800 high', 'lone surrogate', 'U+D800', 5],
    ['lone \udc00 low', 'lone surrogate', 'U+DC00', 5],
    ['end \ud83d', 'lone surrogate', 'U+D83D', 4],
    ['rlo\u202eevil', 'bidirectional control', 'U+202E', 3],
    ['isolate\u2066', 'bidirectional control', 'U+2066', 7],
  ])('%j is refused in a single-line field', (text, kind, codePoint, index) => {
    expect(findForbiddenCharacter(text)).toEqual({ kind, codePoint, index });
  });

  it('multi-line fields keep TAB and LF but not CR or NUL', () => {
    expect(findForbiddenCharacter('a\tb\nc', { multiline: true })).toBeUndefined();
    expect(findForbiddenCharacter('a\r\nb', { multiline: true })).toMatchObject({ codePoint: 'U+000D' });
    expect(findForbiddenCharacter('a\nb\u0000', { multiline: true })).toMatchObject({ codePoint: 'U+0000' });
  });

  it('ordinary text of every script, emoji (surrogate pairs) and zero-width joiners pass', () => {
    for (const text of ['Acme 🏥 export', 'Ωμέγα', '日本語', 'مرحبا', '👩‍⚕️', 'café', 'a\u200db'])
      expect(findForbiddenCharacter(text), text).toBeUndefined();
  });
});

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
