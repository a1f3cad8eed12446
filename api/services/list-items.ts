import type { ServiceSummary } from '../../db/service-summary.js';
import type { JsonText } from '../routes/openapi-helpers.js';
import type { ListedRow, Page } from './read-model.js';
import { createRowCache } from './row-cache.js';

/**
 * The list routes' pages, with each item presented and serialised once per row version: a page of
 * 50 would otherwise parse, present and serialise 50 summaries per request, the larger part of the
 * route's work besides the query (bench:read-path). Entries are checked against the version each
 * row is listed at (projection version and xmin, api/services/row-cache.ts), so they need no change
 * feed and can never outlive the row they were built from. An item depends only on its row and the
 * API's environment settings, never on the caller.
 */
export function createListPages<P>(present: (summary: ServiceSummary) => P, maxEntries: number) {
  const cache = createRowCache<string>(maxEntries);
  const itemText = (row: ListedRow): string => {
    const cached = cache.get(row.id, row.version);
    if (cached) return cached.value;
    const text = JSON.stringify(present(JSON.parse(row.summary) as ServiceSummary));
    const ticket = cache.begin(row.id);
    cache.set(ticket, { version: row.version, value: text });
    ticket.end();
    return text;
  };
  return (page: Page<ListedRow>) =>
    // Each item is the JSON of a `P` (itemText), so the joined text is the JSON of this page.
    `{"items":[${page.items.map(itemText).join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}` as JsonText<{
      items: P[];
      nextCursor: string | null;
    }>;
}
