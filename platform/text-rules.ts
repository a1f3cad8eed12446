/**
 * Which characters the registry refuses in text it stores or passes on. One rule in one place: the
 * API's schemas use it through a zod refinement (api/text-fields.ts); anything that takes text from
 * outside (e.g. a fetched JWK Set) can call the same pure functions. No zod, no Hono here.
 *
 * Why these: each is refused by a dependency further down, and a value one of them refuses can wedge
 * a workflow that retries its projection or Aidbox call without end.
 * - NUL: PostgreSQL text and jsonb cannot hold U+0000
 *   (https://www.postgresql.org/docs/current/datatype-json.html, "\u0000 is disallowed").
 * - Other C0/C1 controls (Unicode general category Cc, https://www.unicode.org/reports/tr44/#GC_Values_Table):
 *   invisible, break logs and HTTP header values (https://www.rfc-editor.org/rfc/rfc9110#section-5.5).
 *   TAB and line breaks are fine in multi-line fields.
 * - Lone UTF-16 surrogates: not Unicode scalar values, so no valid UTF-8 exists for them
 *   (https://www.unicode.org/versions/Unicode15.0.0/ch03.pdf, D76); jsonb refuses their \u escapes.
 * - Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make text
 *   display in another order than it is stored ("Trojan Source", https://trojansource.codes/;
 *   Unicode UAX #9, https://www.unicode.org/reports/tr9/#Explicit_Directional_Embeddings).
 */

export type ForbiddenKind = 'control' | 'lone-surrogate' | 'bidi-control';

export interface ForbiddenCharacter {
  /** The refused code point (a lone surrogate is reported as itself, U+D800–U+DFFF). */
  codePoint: number;
  /** Offset in UTF-16 code units, as JavaScript indexes strings. */
  index: number;
  /** 1-based position in characters (code points), for messages people read. */
  position: number;
  kind: ForbiddenKind;
}

export interface TextRuleOptions {
  /** Multi-line fields (descriptions, reasons) may hold TAB, LF and CR. */
  multiline?: boolean;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

function isControl(cp: number): boolean {
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
}

function isBidiControl(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/** What stands at `index`: a refused character, a well-formed surrogate pair, or nothing to say. */
function classifyAt(text: string, index: number, multiline: boolean): ForbiddenKind | 'pair' | undefined {
  const unit = text.charCodeAt(index);
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const next = index + 1 < text.length ? text.charCodeAt(index + 1) : -1;
    // A well-formed pair is one astral character, never refused.
    return next >= 0xdc00 && next <= 0xdfff ? 'pair' : 'lone-surrogate';
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) return 'lone-surrogate';
  if (isControl(unit)) {
    if (multiline && (unit === TAB || unit === LF || unit === CR)) return undefined;
    return 'control';
  }
  if (isBidiControl(unit)) return 'bidi-control';
  return undefined;
}

/** The first character of `text` the registry refuses, or undefined when there is none. */
export function findForbiddenCharacter(
  text: string,
  options: TextRuleOptions = {},
): ForbiddenCharacter | undefined {
  let position = 0;
  for (let index = 0; index < text.length; index++) {
    position += 1;
    const kind = classifyAt(text, index, options.multiline ?? false);
    if (kind === 'pair') index += 1;
    else if (kind) return { codePoint: text.charCodeAt(index), index, position, kind };
  }
  return undefined;
}

/**
 * Text from outside (a fetched JWK Set, an Aidbox answer) is kept, never refused, but with every
 * refused character written as a visible `\uXXXX` escape: `"nul\u0000kid"` becomes the eleven
 * characters `nul\u0000kid`. Single-line rules, so TAB and line breaks are escaped too.
 */
export function escapeForbiddenCharacters(text: string): string {
  let out = '';
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const kind = classifyAt(text, index, false);
    if (kind === 'pair') {
      index += 1;
    } else if (kind) {
      out += `${text.slice(start, index)}\\u${text.charCodeAt(index).toString(16).padStart(4, '0')}`;
      start = index + 1;
    }
  }
  return start === 0 ? text : out + text.slice(start);
}

/**
 * The one gate for values from outside that the workflow keeps (JWKS reports, refused commands'
 * claims): every string and every object key, at any depth, escaped as above. Plain JSON in, plain
 * JSON out; what JSON would drop (undefined, functions, non-finite numbers) is dropped or nulled.
 */
export function sanitizeOutsideValue<T>(value: T): T {
  return sanitize(value) as T;
}

function sanitize(value: unknown): unknown {
  if (typeof value === 'string') return escapeForbiddenCharacters(value);
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sanitize(item)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function') continue;
      out[escapeForbiddenCharacters(key)] = sanitize(item);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Browsers send CRLF in textareas (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#converting-an-entry-list-to-a-list-of-name-value-pairs); we store LF. */
export function normalizeLineBreaks(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

const KIND_WORDS: Record<ForbiddenKind, string> = {
  control: 'a control character',
  'lone-surrogate': 'an unpaired UTF-16 surrogate',
  'bidi-control': 'a bidirectional text control character',
};

export const codePointLabel = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** "description contains a control character (U+0000) at position 7; remove it" */
export function describeForbidden(field: string, found: ForbiddenCharacter): string {
  return `${field} contains ${KIND_WORDS[found.kind]} (${codePointLabel(found.codePoint)}) at position ${found.position}; remove it`;
}

/**
 * Characters that show nothing: whitespace (White_Space property) and zero-width format characters
 * (ZWSP, ZWNJ, ZWJ, word joiner, BOM, Mongolian vowel separator). A name made only of them looks blank.
 */
const INVISIBLE = /[\s\u180E\u200B-\u200D\u2060\uFEFF]/gu;

export function isVisiblyBlank(text: string): boolean {
  return text.replace(INVISIBLE, '').length === 0;
}
