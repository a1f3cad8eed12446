import type { z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';

/**
 * The pieces every route definition shares. Routes are registered with `app.openapi(route, handler)`
 * and nothing else: zod-openapi then types the handler's input from the route's request schemas and
 * its answer from the route's responses, so a handler cannot drift from what the document says.
 */

/** The OpenAPI tags routes are grouped under (the document lists them in this order). */
export const TAGS = {
  services: 'Backend services',
  admin: 'Administration',
  organizations: 'Organizations',
  platform: 'Platform',
} as const;

/** Every /v1 route needs a bearer token (api/auth/middleware.ts). */
export const bearerAuth = [{ bearerAuth: [] }];

/** A required JSON request body. The media type stays a literal so the handler's input is typed. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A success answer with a JSON body. */
export const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/**
 * A JSON answer no cache keeps (every API answer is the caller's own), typed by its body and status
 * so that zod-openapi checks both against the route's `responses`.
 */
export function json<T extends object, S extends ContentfulStatusCode>(
  c: Context,
  body: T,
  status: S,
  headers: Record<string, string> = {},
) {
  return c.json(body, status, { 'Cache-Control': 'no-store', ...headers });
}

/** JSON text serialised from a value of type T: only `serialized` makes one, so its type is the value's. */
export type JsonText<T> = string & { readonly __serialisedFrom: T };
export const serialized = <T>(value: T) => JSON.stringify(value) as JsonText<T>;

/**
 * `json` for an answer serialised earlier (a cached one): the same headers and the same type check
 * against the route's `responses`, carried by the text's type. The cast is the one place that says
 * what `c.body` sends is JSON of type T.
 */
export function jsonText<T, S extends ContentfulStatusCode>(
  c: Context,
  body: JsonText<T>,
  status: S,
  headers: Record<string, string> = {},
) {
  return c.body(body, status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    ...headers,
  }) as unknown as Response & TypedResponse<JSONParsed<T>, S, 'json'>;
}
