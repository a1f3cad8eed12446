import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import type { Html } from './layout.js';

/** Small pieces of wording both UIs use: status, times, the authentication method, scope lists. */

export const STATUS_LABELS: Record<Service['status'], string> = {
  draft: 'Draft',
  under_review: 'Under Review',
  active: 'Active',
  rejected: 'Rejected',
};

export function statusBadge(status: Service['status']): Html {
  return html`<span class="badge badge-${status}">${STATUS_LABELS[status]}</span>`;
}

/** Absolute UTC time, readable and unambiguous for people in different time zones. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`—`;
  const text = new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  return html`<time datetime="${iso}">${text}</time>`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

export const authMethodLabel = (service: Pick<Service, 'authMethod'>) =>
  service.authMethod.type === 'jwks_uri' ? 'JWKS URI (private_key_jwt)' : 'Client secret';

export function scopeList(strings: string[]): Html {
  return html`<ul class="scopes">
    ${strings.map((s) => html`<li><code>${s}</code></li>`)}
  </ul>`;
}
