import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { ApiConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Fetcher } from './api-client.js';
import { FAVICON_SVG, PORTAL_CSS, portalScript } from './assets.js';
import { createOidcClient } from './auth/oidc.js';
import { registerAuthRoutes, type DevelopmentIssuer } from './auth/routes.js';
import { makeHandler } from './handler.js';
import { registerAdminRoutes } from './admin/routes.js';
import { registerPortalRoutes } from './portal/routes.js';
import { cookiePolicy, createSealer, SessionStore, type SessionRegistry } from './session.js';
import { page } from './views/layout.js';

/**
 * The developer portal (/portal), the review UI (/admin) and sign-in (/login): server-rendered
 * HTML. Each page calls the JSON API with the signed-in user's bearer token through `api` (the
 * composition point, api/compose.ts, passes the API app's own `request`), so it is held to
 * exactly the API's rules. The pages know the API only by its public types (ui/api-client.ts).
 */
export interface UiDependencies {
  config: Pick<
    ApiConfig,
    | 'APP_MODE'
    | 'PUBLIC_URL'
    | 'UI_SESSION_SECRET'
    | 'UI_OIDC_CLIENT_ID'
    | 'UI_OIDC_CLIENT_SECRET'
    | 'UI_OIDC_SCOPES'
    | 'AUTH_ISSUER'
    | 'AUTH_ROLES_CLAIM'
    | 'PRODUCTION_ORGBAC'
    | 'TEMPORAL_UI_URL'
    | 'TEMPORAL_NAMESPACE'
  >;
  log: Pick<Logger, 'error'>;
  /** The JSON API, called in-process. */
  api: Fetcher;
  /** The server-side page sessions (db/session-store.ts in the process). */
  sessions: SessionRegistry;
  /** Signs a chosen development user's token (development sign-in), or null when that is off. */
  developmentIssuer: (() => Promise<DevelopmentIssuer>) | null;
}

const PAGE_PATHS = ['/login', '/login/*', '/logout', '/portal', '/portal/*', '/admin', '/admin/*'];

const SECURITY_HEADERS: Record<string, string> = {
  // Only our own script and stylesheet; no inline code, no framing, forms post only here.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

export function createUi(deps: UiDependencies): Hono {
  const { config, log } = deps;
  const ui = new Hono();

  ui.use('/ui-assets/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'public, max-age=300');
    c.header('X-Content-Type-Options', 'nosniff');
  });
  ui.get('/ui-assets/portal.css', (c) =>
    c.body(PORTAL_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }),
  );
  ui.get('/ui-assets/favicon.svg', (c) => c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml' }));
  ui.get('/favicon.ico', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml' });
  });
  const script = portalScript();
  ui.get('/ui-assets/portal.js', (c) =>
    c.body(script, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  );

  const sessionSecret =
    config.UI_SESSION_SECRET ?? (config.APP_MODE === 'development' ? randomBytes(32) : null);
  if (!sessionSecret) {
    // An API-only production deployment stays up; its pages say what is missing.
    for (const path of PAGE_PATHS)
      ui.all(path, (c) =>
        c.text('The portal pages are not configured: set UI_SESSION_SECRET (and the OIDC client).', 503),
      );
    return ui;
  }

  const sessions = new SessionStore(
    createSealer(sessionSecret),
    cookiePolicy(config.APP_MODE),
    deps.sessions,
  );
  const publicOrigin = config.PUBLIC_URL ? new URL(config.PUBLIC_URL).origin : null;
  const handle = makeHandler({ sessions, publicOrigin, fetcher: deps.api });

  const oidc =
    config.AUTH_ISSUER && config.UI_OIDC_CLIENT_ID
      ? createOidcClient({
          issuer: config.AUTH_ISSUER,
          clientId: config.UI_OIDC_CLIENT_ID,
          clientSecret: config.UI_OIDC_CLIENT_SECRET,
          scopes: config.UI_OIDC_SCOPES,
        })
      : null;

  // Scoped to the pages' paths: the UI shares the API's app, and /v1 or /docs must not get these.
  for (const path of PAGE_PATHS)
    ui.use(path, async (c, next) => {
      await next();
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    });

  registerAuthRoutes(ui, {
    handle,
    sessions,
    developmentIssuer: deps.developmentIssuer,
    oidc,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    redirectUri: (requestUrl) => `${publicOrigin ?? new URL(requestUrl).origin}/login/callback`,
    origin: (requestUrl) => publicOrigin ?? new URL(requestUrl).origin,
  });
  registerPortalRoutes(ui, { handle, orgbac: config.PRODUCTION_ORGBAC });
  registerAdminRoutes(ui, {
    handle,
    orgbac: config.PRODUCTION_ORGBAC,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
  });

  ui.onError(async (error, c) => {
    log.error({ err: { name: error.name, message: error.message }, path: c.req.path }, 'page failed');
    return c.html(
      await page(
        { title: 'Something went wrong', viewer: null, csrf: '' },
        html`<h1>Something went wrong</h1>
          <p>The page could not be shown. Try again; if it keeps failing, tell the Payerbox team.</p>`,
      ),
      500,
    );
  });

  return ui;
}
