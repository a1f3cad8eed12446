import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routeTemplate } from './metrics.js';

/**
 * The server span of each request: continues a `traceparent` the caller sent, and is the parent of
 * everything the request does (the pages' in-process API calls, Temporal starts and updates, the
 * database). Named by route template, never by the raw path. Registered only when tracing is on.
 */
export function tracingMiddleware(): MiddlewareHandler {
  const tracer = trace.getTracer('backend-services-api');
  return async (c, next) => {
    const carrier: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => (carrier[key] = value));
    const parent = propagation.extract(context.active(), carrier);
    await tracer.startActiveSpan(
      c.req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method } },
      parent,
      async (span) => {
        try {
          await next();
        } finally {
          const route = routeTemplate(c.req.routePath, c.res.status);
          span.updateName(`${c.req.method} ${route}`);
          span.setAttribute('http.route', route);
          span.setAttribute('http.response.status_code', c.res.status);
          if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      },
    );
  };
}
