import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AppEnv } from '../context.js';
import { PROBLEM_TYPES, problemTypeUri, type ProblemName } from '../problems.js';
import { TAGS, json } from './openapi-helpers.js';

/**
 * The OpenAPI document, generated from the route schemas, and interactive docs served from the
 * swagger-ui-dist npm package (no CDN). Problem type URIs resolve to a short description.
 */
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Backend Services registry API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout'
});`;

// Scripts only from this origin: the page works offline and nothing is pulled from a CDN.
const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/** Static files of the docs page: not API routes, so not in the OpenAPI document. */
export const DOCS_ASSET_PATH = '/docs/assets/:file';

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Backend Services registry API',
      version: '1.0.0',
      description:
        'The HTTP contract the developer portal and the review UI rely on. Errors are RFC 9457 problem+json; ' +
        'every POST and PATCH honours Idempotency-Key.',
    },
    tags: Object.values(TAGS).map((name) => ({ name })),
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A JWT of the configured issuer; roles in the roles claim (developer, admin)',
  });
  // /openapi.json is registered by doc31 above; describe it too so the document lists every route.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: [TAGS.platform],
    summary: 'This OpenAPI document',
    responses: {
      200: {
        description: 'OpenAPI 3.1 document',
        content: { 'application/json': { schema: z.object({}).passthrough() } },
      },
    },
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/docs',
      tags: [TAGS.platform],
      summary: 'Interactive API documentation (served from local assets)',
      responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
    }),
    () =>
      new Response(DOCS_PAGE, {
        headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': DOCS_CSP },
      }),
  );

  app.get(DOCS_ASSET_PATH, (c) => {
    const file = c.req.param('file');
    if (file === 'init.js')
      return c.body(INIT_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    const type = ASSETS[file];
    if (!type) return c.notFound();
    return c.body(readFileSync(path.join(SWAGGER_DIR, file)), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=3600',
    });
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/problems/{name}',
      tags: [TAGS.platform],
      summary: 'What a problem type means (the `type` URIs of error answers)',
      request: {
        params: z.object({
          name: z
            .enum(Object.keys(PROBLEM_TYPES) as [ProblemName, ...ProblemName[]])
            .openapi({ param: { name: 'name', in: 'path' } }),
        }),
      },
      responses: {
        200: {
          description: 'The problem type',
          content: {
            'application/json': {
              schema: z.object({ type: z.string(), status: z.number(), title: z.string() }),
            },
          },
        },
        400: {
          description: 'No such problem type',
          content: {
            'application/problem+json': { schema: z.object({ type: z.string(), status: z.number() }) },
          },
        },
      },
    }),
    (c) => {
      const { name } = c.req.valid('param');
      const type = PROBLEM_TYPES[name];
      return json(c, { type: problemTypeUri(name), status: type.status, title: type.title }, 200, {
        'Cache-Control': 'public, max-age=86400',
      });
    },
  );
}
