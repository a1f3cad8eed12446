import type { Hono } from 'hono';
import type { makeHandler } from '../handler.js';
import { registerDecisionRoutes } from './decisions.js';
import { registerListPages } from './lists.js';
import { registerReviewPage } from './review-page.js';

/**
 * The review UI: the queue (oldest first, waiting time), the review page with everything an
 * approval commits to on one screen, approve / reject, the active list with deactivate, and a link
 * to each service's workflow in the Temporal Web UI for operators.
 */
export interface AdminDeps {
  handle: ReturnType<typeof makeHandler>;
  orgbac: boolean;
  temporalUiUrl: string;
  temporalNamespace: string;
}

export function registerAdminRoutes(ui: Hono, deps: AdminDeps): void {
  registerListPages(ui, deps);
  registerReviewPage(ui, deps);
  registerDecisionRoutes(ui, deps);
}
