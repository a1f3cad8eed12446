/**
 * The matcho pattern language of Aidbox AccessPolicies (docs/aidbox-contract.md §2.1; Aidbox docs
 * `reference/matcho-dsl-reference.md`).
 *
 * - literals (string, number, boolean) compare by value;
 * - an object pattern matches when each of its keys matches (partial, nested);
 * - an array pattern matches element by element in order (the subject may be longer);
 * - `"#regex"` searches a string; `".path.in.context"` compares with a value of the request;
 * - `present?`, `nil?`, `not-blank?`;
 * - `$enum`, `$one-of`, `$contains`, `$every`, `$not`, `$reference`, `$present-all`, `$length`.
 */

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNil = (value: Json): boolean => value === undefined || value === null;

/** Resolves `.a.b.c` against the request context; numeric segments index arrays. */
export function resolveContextPath(context: Json, path: string): Json {
  let current: Json = context;
  for (const segment of path.replace(/^\./, '').split('.')) {
    if (segment === '') continue;
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isObject(current)) current = current[segment];
    else return undefined;
  }
  return current;
}

function deepEqual(a: Json, b: Json): boolean {
  // Missing and null are the same to Clojure-born Aidbox; this is also the root of the `.path`
  // gotcha: two missing sides compare equal (docs/aidbox-contract.md §2.1).
  if (isNil(a) && isNil(b)) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** `{reference: "Patient/p1"}` or `"Patient/p1"` → `{resourceType: "Patient", id: "p1"}` (the `$reference` key). */
function toAidboxReference(value: Json): Json {
  const text = typeof value === 'string' ? value : isObject(value) ? value.reference : undefined;
  if (typeof text !== 'string') return value;
  const match = /^(?:.*\/)?([A-Za-z]+)\/([^/]+)$/.exec(text);
  return match ? { resourceType: match[1], id: match[2] } : value;
}

function matchString(subject: Json, pattern: string, context: Json): boolean {
  switch (pattern) {
    case 'present?':
      return !isNil(subject);
    case 'nil?':
      return isNil(subject);
    case 'not-blank?':
      return typeof subject === 'string' && subject.trim() !== '';
  }
  if (pattern.startsWith('#')) {
    if (typeof subject !== 'string') return false;
    try {
      return new RegExp(pattern.slice(1)).test(subject);
    } catch {
      return false; // A pattern that does not compile matches nothing (fail closed).
    }
  }
  if (pattern.startsWith('.')) return deepEqual(subject, resolveContextPath(context, pattern));
  return subject === pattern;
}

const SPECIAL_KEYS = new Set([
  '$enum',
  '$one-of',
  '$contains',
  '$every',
  '$not',
  '$reference',
  '$present-all',
  '$length',
]);

function matchSpecialKey(subject: Json, key: string, argument: Json, context: Json): boolean {
  switch (key) {
    case '$enum':
      return (
        Array.isArray(argument) && argument.some((option) => !isNil(subject) && deepEqual(subject, option))
      );
    case '$one-of':
      return Array.isArray(argument) && argument.some((option) => matcho(subject, option, context));
    case '$contains':
      return Array.isArray(subject) && subject.some((item) => matcho(item, argument, context));
    case '$every':
      return Array.isArray(subject) && subject.every((item) => matcho(item, argument, context));
    case '$not':
      return !matcho(subject, argument, context);
    case '$reference':
      return matcho(toAidboxReference(subject), argument, context);
    case '$present-all':
      // Every listed element appears somewhere in the subject array, in any order.
      return (
        Array.isArray(subject) &&
        Array.isArray(argument) &&
        argument.every((want) => subject.some((have) => matcho(have, want, context)))
      );
    case '$length':
      return Array.isArray(subject) && subject.length === argument;
    default:
      return false;
  }
}

/**
 * True when `subject` matches `pattern`. `context` is the whole request object, the root of
 * `.path` expressions.
 *
 * `$one-of` next to sibling keys: the docs say not to do that, Payerbox's own shipped policy does
 * (docs/aidbox-contract.md §10). The stand-in evaluates both (logical and), which is what such a
 * policy's author means; it is not verified against Aidbox.
 */
export function matcho(subject: Json, pattern: Json, context: Json): boolean {
  if (typeof pattern === 'string') return matchString(subject, pattern, context);
  if (pattern === null) return isNil(subject);
  if (typeof pattern === 'number' || typeof pattern === 'boolean') return subject === pattern;
  if (Array.isArray(pattern)) {
    return (
      Array.isArray(subject) &&
      pattern.length <= subject.length &&
      pattern.every((p, i) => matcho(subject[i], p, context))
    );
  }
  if (isObject(pattern)) {
    return Object.entries(pattern).every(([key, value]) => {
      if (SPECIAL_KEYS.has(key)) return matchSpecialKey(subject, key, value, context);
      // A nested pattern needs something to look into, except the operators that accept a missing value.
      const child = isObject(subject) ? subject[key] : undefined;
      return matcho(child, value, context);
    });
  }
  return false;
}
