import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';

/**
 * Registers a documented route. Handlers build their responses themselves (problem+json,
 * no-store, secrets added after the idempotency record is written), so the typed-response
 * checking of zod-openapi is bypassed here on purpose; request validation still comes from the
 * route's schemas, and the document from the same config.
 */
export function addRoute<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: AppContext) => Promise<Response>,
): void {
  app.openapi(route, handler as never);
}

/** Validated input of a target, typed by the caller (the route's schema already checked it). */
export function valid<T>(c: AppContext, target: 'json' | 'query' | 'param' | 'header'): T {
  return (c.req as unknown as { valid: (t: string) => T }).valid(target);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}
