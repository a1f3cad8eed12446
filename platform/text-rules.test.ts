import { describe, expect, it } from 'vitest';
import {
  describeForbidden,
  findForbiddenCharacter,
  isVisiblyBlank,
  normalizeLineBreaks,
} from './text-rules.js';

describe('text rules', () => {
  it('finds NUL, controls, lone surrogates and bidi controls where they are', () => {
    expect(findForbiddenCharacter('before\u0000after')).toEqual({
      codePoint: 0,
      index: 6,
      position: 7,
      kind: 'control',
    });
    expect(findForbiddenCharacter('a\u0085b')?.kind).toBe('control'); // C1 (NEL)
    expect(findForbiddenCharacter('a\u007Fb')?.kind).toBe('control');
    expect(findForbiddenCharacter('x\ud800y')).toMatchObject({
      codePoint: 0xd800,
      index: 1,
      kind: 'lone-surrogate',
    });
    expect(findForbiddenCharacter('x\udc00')).toMatchObject({ codePoint: 0xdc00, kind: 'lone-surrogate' });
    expect(findForbiddenCharacter('\ud83d')).toMatchObject({ kind: 'lone-surrogate' });
    for (const cp of [0x202a, 0x202e, 0x2066, 0x2069])
      expect(findForbiddenCharacter(`a${String.fromCodePoint(cp)}`)).toMatchObject({
        codePoint: cp,
        kind: 'bidi-control',
      });
    // Positions count characters: an emoji before the NUL is one character, two code units.
    expect(findForbiddenCharacter('😀\u0000')).toMatchObject({ index: 2, position: 2 });
  });

  it('lets ordinary text through (negative controls)', () => {
    for (const text of ['', 'Acme bulk export', 'Zoë 😀 日本語', 'a\u200Db', '\u202F'])
      expect(findForbiddenCharacter(text)).toBeUndefined();
    expect(findForbiddenCharacter('line one\nline\ttwo\r\n', { multiline: true })).toBeUndefined();
  });

  it('refuses TAB and line breaks in single-line fields only', () => {
    expect(findForbiddenCharacter('a\tb')).toMatchObject({ codePoint: 9 });
    expect(findForbiddenCharacter('a\nb')).toMatchObject({ codePoint: 10 });
    expect(findForbiddenCharacter('a\u0000\n', { multiline: true })).toMatchObject({ codePoint: 0 });
  });

  it('says what and where for people', () => {
    const found = findForbiddenCharacter('before\u0000after')!;
    expect(describeForbidden('description', found)).toBe(
      'description contains a control character (U+0000) at position 7; remove it',
    );
  });

  it('normalises CRLF and CR to LF', () => {
    expect(normalizeLineBreaks('a\r\nb\rc\nd')).toBe('a\nb\nc\nd');
  });

  it('calls text blank when only whitespace or zero-width characters remain', () => {
    expect(isVisiblyBlank(' \u200B\u200C\u200D\u2060\uFEFF\u00A0\t')).toBe(true);
    expect(isVisiblyBlank(' a ')).toBe(false);
  });
});
