import { html } from 'hono/html';
import type { PageContext } from './handler.js';
import type { Html } from './views/layout.js';

/** People know Organizations by name; the ID stays beside it for support. */
export async function organizationName(ctx: PageContext, id: string): Promise<string | null> {
  const answer = await ctx.api.organizations();
  return answer.ok ? (answer.body.items.find((o) => o.id === id)?.name ?? null) : null;
}

export function organizationLabel(id: string | null, name: string | null): Html {
  if (!id) return html`—`;
  return name ? html`${name} <span class="hint">(<code>${id}</code>)</span>` : html`<code>${id}</code>`;
}

/** Organization ID → name, for the pages that list or show them (people know them by name). */
export async function organizationNames(ctx: PageContext): Promise<Map<string, string>> {
  const answer = await ctx.api.organizations();
  const names = new Map<string, string>();
  if (answer.ok) for (const org of answer.body.items) if (org.name) names.set(org.id, org.name);
  return names;
}
