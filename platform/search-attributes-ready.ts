import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

/**
 * Resolves once every search attribute the workflows set (workflows/search-attributes.ts) is
 * registered in `namespace`, for the dev server and the cluster alike: a frontend may answer before
 * the namespace is ready, or before the namespace has reached every frontend's cache. The caller
 * owns the connection.
 */
export async function pollSearchAttributes(
  connection: Connection,
  namespace: string,
  options: { deadline: number; intervalMs: number; timeoutMessage: string },
): Promise<void> {
  for (;;) {
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      if (SEARCH_ATTRIBUTES.every((key) => customAttributes?.[key.name] !== undefined)) return;
    } catch {
      // Not ready yet (see above).
    }
    if (Date.now() > options.deadline) throw new Error(options.timeoutMessage);
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}
