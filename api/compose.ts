import type { Hono } from 'hono';
import { createSessionStore } from '../db/session-store.js';
import { devIssuerEnabled } from '../platform/config.js';
import { createUi } from '../ui/app.js';
import type { SessionRegistry } from '../ui/session.js';
import { createApp } from './app.js';
import { loadOrCreateDevelopmentIssuer, type LocalIssuer } from './auth/local-issuer.js';
import type { ApiDependencies, AppEnv } from './context.js';

export interface AppDependencies extends ApiDependencies {
  /** Server-side sessions of the pages; default: the PostgreSQL store on `db`. */
  uiSessions?: SessionRegistry;
}

/**
 * What the API process serves: the JSON API (api/app.ts) with the developer portal and the review
 * UI (ui/) mounted on the same app. The one place where the two meet, so the API never imports
 * the pages and the pages see the API only through HTTP and its public types. The pages call the
 * API in-process (`app.request`) with the signed-in user's token.
 */
export function composeApp(deps: AppDependencies): Hono<AppEnv> {
  const app = createApp(deps);
  const { config } = deps;
  let issuer: Promise<LocalIssuer> | null = null;
  const ui = createUi({
    config,
    log: deps.log,
    api: (path, init) => app.request(path, init),
    sessions: deps.uiSessions ?? createSessionStore(deps.db),
    developmentIssuer: devIssuerEnabled(config)
      ? // The same key file the API trusts (api/auth/from-config.ts), loaded on first sign-in.
        () =>
          (issuer ??= loadOrCreateDevelopmentIssuer(config.DATA_DIR, {
            audience: config.AUTH_AUDIENCE,
            rolesClaim: config.AUTH_ROLES_CLAIM,
          }))
      : null,
  });
  // Behind the API's app-wide middleware (metrics, tracing, HSTS, the body limit), which covers the
  // pages too; the /v1 middleware does not.
  app.route('/', ui);
  return app;
}
