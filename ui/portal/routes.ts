import type { Hono } from 'hono';
import { refusalMessage, type makeHandler, type PageContext } from '../handler.js';
import { registerDashboard } from './dashboard.js';
import { registerGuide } from './guide.js';
import { registerChangePages } from './pending-change.js';
import { registerOwnerActionPages } from './owner-actions.js';
import { registerRegistrationPages } from './registration-pages.js';
import { registerSecretPages } from './secret-page.js';
import { servicePage } from './service-page.js';
import { registerServiceRoutes } from './service-routes.js';

/**
 * The developer portal (the spec's flow): dashboard, register, the secret shown once, the draft
 * and detail page (submit, edit, rotate, assertion check). Every action is one API call with the
 * signed-in developer's token; a POST carries an idempotency key rendered into its form, so a
 * refresh or double click never acts twice.
 */
export interface PortalDeps {
  handle: ReturnType<typeof makeHandler>;
  orgbac: boolean;
}

export function registerPortalRoutes(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;
  registerDashboard(ui, deps);
  registerRegistrationPages(ui, deps);
  registerServiceRoutes(ui, deps);
  registerSecretPages(ui, deps);
  registerGuide(ui, { handle });
  const pageDeps = {
    handle,
    servicePage: (ctx: PageContext, id: string, extra: { error: string; status: number }) =>
      servicePage(ctx, deps, id, extra),
    refusalMessage,
  };
  registerOwnerActionPages(ui, pageDeps);
  registerChangePages(ui, pageDeps);
}
