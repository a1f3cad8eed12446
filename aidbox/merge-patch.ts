/**
 * JSON merge patch (RFC 7386, https://www.rfc-editor.org/rfc/rfc7386) as the Aidbox client computes
 * it: the smallest patch that turns a stored resource into the desired one, so an upsert changes
 * only what differs and never sends fields it must not touch.
 */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** RFC 7386 patch turning `current` into `desired` (absent keys become null, i.e. removed). */
export function mergePatchDiff(
  current: Record<string, unknown>,
  desired: Record<string, unknown>,
  skip: Set<string> = new Set(),
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (skip.has(key) || deepEqual(current[key], value)) continue;
    const before = current[key];
    patch[key] = isPlainObject(before) && isPlainObject(value) ? mergePatchDiff(before, value) : value;
  }
  for (const key of Object.keys(current)) {
    if (!skip.has(key) && !(key in desired)) patch[key] = null;
  }
  return patch;
}
