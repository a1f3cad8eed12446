import { html } from 'hono/html';
import type { Html } from '../views/layout.js';
import type { AdminDeps } from './routes.js';

/** A service's review page. */
export const reviewPath = (id: string) => `/admin/services/${encodeURIComponent(id)}`;

/** One-time confirmations (ctx.redirect); an approval's progress is shown from the service's state instead. */
export const NOTICES: Record<string, string> = {
  rejected: 'Rejected. The developer sees your reason and may edit and resubmit.',
  deactivated: 'Deactivated. Production no longer accepts this client.',
};

/** The service's workflow in the Temporal Web UI, for operators. */
export function temporalLink(deps: Pick<AdminDeps, 'temporalUiUrl' | 'temporalNamespace'>, id: string): Html {
  const workflow = `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.temporalNamespace)}/workflows/${encodeURIComponent(`backend-service/${id}`)}`;
  return html`<a href="${workflow}" target="_blank" rel="noopener">Workflow in Temporal</a>`;
}
