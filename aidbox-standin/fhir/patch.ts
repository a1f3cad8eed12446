/**
 * PATCH bodies (docs/aidbox-contract.md §6): JSON merge-patch (RFC 7386; `application/merge-patch+json`
 * or `?_method=merge-patch`) and JSON Patch (RFC 6902; the body must be an array, else 400). Plain
 * `application/json` is read by shape: an array is a JSON Patch, an object a merge-patch.
 */
import { HttpError, invalid } from '../http/outcome.js';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 section 2. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

const pointer = (path: string): string[] =>
  path === ''
    ? []
    : path
        .replace(/^\//, '')
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/** RFC 6902 add / remove / replace / test (move and copy are not needed by the product). */
export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new HttpError(400, 'invalid', 'a JSON Patch body must be an array');
  const document = structuredClone(target);
  for (const raw of operations as JsonPatchOperation[]) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw invalid('malformed JSON Patch operation');
    const segments = pointer(raw.path);
    const last = segments.pop();
    if (last === undefined) throw invalid('JSON Patch on the whole resource is not supported');
    let parent: Json = document;
    for (const segment of segments) {
      parent = Array.isArray(parent)
        ? parent[Number(segment)]
        : isObject(parent)
          ? parent[segment]
          : undefined;
      if (parent === undefined) throw invalid(`JSON Patch path ${raw.path} does not exist`);
    }
    if (typeof parent !== 'object' || parent === null)
      throw invalid(`JSON Patch path ${raw.path} does not point into an object or array`);
    const container = parent as Record<string, Json> | Json[];
    const index =
      last === '-' && Array.isArray(container)
        ? container.length
        : Array.isArray(container)
          ? Number(last)
          : last;
    switch (raw.op) {
      case 'add':
        if (Array.isArray(container)) container.splice(index as number, 0, raw.value);
        else (container as Record<string, Json>)[last] = raw.value;
        break;
      case 'replace':
        (container as Record<string, Json>)[index as string] = raw.value;
        break;
      case 'remove':
        if (Array.isArray(container)) container.splice(index as number, 1);
        else delete (container as Record<string, Json>)[last];
        break;
      case 'test':
        if (
          JSON.stringify((container as Record<string, Json>)[index as string]) !== JSON.stringify(raw.value)
        ) {
          throw new HttpError(422, 'invalid', `JSON Patch test failed at ${raw.path}`);
        }
        break;
      default:
        throw invalid(`JSON Patch op ${raw.op} is not supported`);
    }
  }
  return document;
}

export type PatchKind = 'merge' | 'json';

export function patchKind(
  contentType: string | undefined,
  method: string | undefined,
  body: unknown,
): PatchKind {
  if (method === 'merge-patch') return 'merge';
  if (method === 'json-patch') return 'json';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/json-patch+json') return 'json';
  return Array.isArray(body) ? 'json' : 'merge';
}
