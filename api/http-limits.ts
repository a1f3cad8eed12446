import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiProblem, problemResponse } from './problems.js';

/**
 * Limits every request is held to before anything parses its body (README "Security"). Bodies of
 * this API are small (a registration is a few KiB), so 64 KiB leaves room and bounds what one request
 * can make the process hold.
 */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** Our deepest body (a registration's scopes.rules[].operations[]) is 4 levels; 32 is generous. */
export const MAX_JSON_DEPTH = 32;

/**
 * GET and HEAD carry no body a handler reads (the fetch Request of one has none), and asking the
 * Node adapter's request for its body builds a full fetch Request: half the cost of a cached read
 * (bench:read-path's profile). Their body checks are skipped before that.
 */
const withoutBody = (method: string) => method === 'GET' || method === 'HEAD';

/**
 * 413 for a body over the limit. hono/body-limit refuses at once on a Content-Length over the limit
 * and otherwise reads the stream only up to the limit, so a large body is never buffered whole.
 */
export function limitBodySize(maxBytes = BODY_LIMIT_BYTES): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () =>
      problemResponse(
        new ApiProblem(
          'payload-too-large',
          `The request body is larger than ${maxBytes / 1024} KiB; nothing was changed.`,
        ),
      ),
  });
  return async (c, next) => (withoutBody(c.req.method) ? next() : limit(c, next));
}

/**
 * The nesting depth of JSON text, counted on the raw characters (strings skipped), so it costs one
 * pass and no recursion: deeply nested input must never reach a recursive parser or walker.
 * Returns as soon as `max` is exceeded.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i += 1;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      depth += 1;
      if (depth > max) return true;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) depth -= 1;
  }
  return false;
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\b/i;

/** 400 for a JSON body nested deeper than `max`, before any validator parses it. */
export function limitJsonDepth(max = MAX_JSON_DEPTH): MiddlewareHandler {
  return async (c, next) => {
    if (withoutBody(c.req.method) || !c.req.raw.body || !JSON_TYPE.test(c.req.header('Content-Type') ?? ''))
      return next();
    // Bounded by limitBodySize; Hono caches the text, so the validator's c.req.json() reuses it.
    const text = await c.req.text();
    if (jsonDepthExceeds(text, max)) {
      // Field-less: the depth is a property of the whole body, not of one field.
      return problemResponse(
        new ApiProblem(
          'validation-error',
          `The JSON body is nested more than ${max} levels deep; no request of this API needs that.`,
        ),
      );
    }
    return next();
  };
}

/**
 * HSTS (RFC 6797, https://www.rfc-editor.org/rfc/rfc6797) when the public URL is https: browsers
 * then never try plain http for this host again for a year.
 */
export function strictTransportSecurity(publicUrl: string | undefined): MiddlewareHandler {
  const https = publicUrl !== undefined && new URL(publicUrl).protocol === 'https:';
  return async (c, next) => {
    await next();
    if (https) c.header('Strict-Transport-Security', 'max-age=31536000');
  };
}
