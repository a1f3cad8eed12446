/**
 * Characters that one of our dependencies refuses or that deceive a reader, in one place.
 *
 * - NUL: PostgreSQL `text` and `jsonb` cannot hold it ("unsupported Unicode escape sequence",
 *   https://www.postgresql.org/docs/15/datatype-json.html), so a value carrying it can never be projected.
 * - Other C0 and C1 control characters (and DEL): invisible, and refused in HTTP header values
 *   (https://www.rfc-editor.org/rfc/rfc9110#section-5.5).
 * - Lone UTF-16 surrogates: not Unicode scalar values; PostgreSQL refuses `\ud800` without its pair,
 *   and UTF-8 cannot encode them (https://www.unicode.org/versions/Unicode15.0.0/ch03.pdf, D76).
 * - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder what a
 *   reviewer sees ("Trojan Source", https://www.unicode.org/reports/tr9/#Explicit_Directional_Embeddings).
 *
 * Text typed by people (the API's fields) is refused with a message; text from outside (a fetched JWK
 * Set, an Aidbox answer) is kept only escaped, so the workflow never holds a value it cannot project.
 */

export type ForbiddenKind = 'control character' | 'lone surrogate' | 'bidirectional control';

export interface ForbiddenCharacter {
  kind: ForbiddenKind;
  /** The UTF-16 code unit, as `U+0000`. */
  codePoint: string;
  /** Index (UTF-16 code units) in the text. */
  index: number;
}

export interface TextRules {
  /** Multi-line fields (descriptions, reasons) may hold TAB and LF; CR must be normalised first. */
  multiline?: boolean;
}

function isControl(unit: number, multiline: boolean): boolean {
  if (multiline && (unit === 0x09 || unit === 0x0a)) return false;
  return unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f);
}

const isBidiControl = (unit: number) =>
  (unit >= 0x202a && unit <= 0x202e) || (unit >= 0x2066 && unit <= 0x2069);
const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

function kindAt(text: string, index: number, multiline: boolean): ForbiddenKind | 'pair' | undefined {
  const unit = text.charCodeAt(index);
  if (isControl(unit, multiline)) return 'control character';
  if (isBidiControl(unit)) return 'bidirectional control';
  if (isHigh(unit)) return isLow(text.charCodeAt(index + 1)) ? 'pair' : 'lone surrogate';
  if (isLow(unit)) return 'lone surrogate';
  return undefined;
}

const codePointOf = (unit: number) => `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;

/** The first character of `text` that the rules refuse, or undefined. */
export function findForbiddenCharacter(text: string, rules: TextRules = {}): ForbiddenCharacter | undefined {
  const multiline = rules.multiline ?? false;
  for (let index = 0; index < text.length; index += 1) {
    const kind = kindAt(text, index, multiline);
    if (kind === 'pair') index += 1;
    else if (kind) return { kind, codePoint: codePointOf(text.charCodeAt(index)), index };
  }
  return undefined;
}

/**
 * The text with every refused character written as a visible `\uXXXX` escape (so `"nul\u0000kid"`
 * becomes the eleven characters `nul\u0000kid`). Single-line rules: TAB and line breaks are escaped too.
 */
export function escapeForbiddenCharacters(text: string): string {
  let out = '';
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const kind = kindAt(text, index, false);
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
 * The one gate for values from outside that the workflow keeps (JWKS reports, Aidbox answers): every
 * string, and every object key, at any depth, with refused characters escaped. Plain JSON in, plain
 * JSON out; anything else (undefined, functions) is dropped as JSON would drop it.
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
