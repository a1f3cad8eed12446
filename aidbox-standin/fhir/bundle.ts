import { HttpError, invalid } from '../http/outcome.js';
import { routeRequest, type Route } from '../policy/request.js';
import type { ResourceStore } from '../store/store.js';
import { apiBasePath, type ApiRequest, type ApiResponse } from './api-exchange.js';

export interface BundleContext {
  store: ResourceStore;
  orgbac: boolean;
  baseUrl: () => string;
  /** Runs one entry as a request of its own. */
  execute: (request: ApiRequest) => Promise<ApiResponse>;
}

const asObject = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;

/** `POST /fhir` with a Bundle of type transaction (atomic) or batch (section 6). */
export async function executeBundle(
  route: Route,
  outer: ApiRequest,
  context: BundleContext,
): Promise<ApiResponse> {
  const body = outer.body;
  const bundle = asObject(body);
  if (typeof body !== 'object' || body === null || bundle.resourceType !== 'Bundle')
    throw invalid('expected a Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch')
    throw invalid('Bundle.type must be transaction or batch');
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as Array<Record<string, unknown>>) : [];
  const atomic = bundle.type === 'transaction';
  const snapshot = atomic ? context.store.snapshot() : undefined;
  const prefix = apiBasePath(route);
  const responses: Array<Record<string, unknown>> = [];

  for (const [index, entry] of entries.entries()) {
    try {
      if (typeof entry !== 'object' || entry === null) throw invalid(`entry ${index}: must be an object`);
      const request = asObject(entry.request ?? {});
      const method = typeof request.method === 'string' ? request.method.toUpperCase() : '';
      const relative = typeof request.url === 'string' ? request.url.replace(/^\//, '') : '';
      const [pathPart = '', query = ''] = relative.split('?', 2);
      const path = `${prefix}/${pathPart}`;
      const entryRoute = routeRequest(method, path, context.orgbac);
      if (!entryRoute || entryRoute.api === 'system' || entryRoute.action === 'transaction') {
        throw invalid(`entry ${index}: unsupported request ${method} ${relative}`);
      }
      await outer.authorizeEntry(method, path, query, entry.resource);
      const url = new URL(`${context.baseUrl()}${path}${query ? `?${query}` : ''}`);
      const ifMatchHeader = typeof request.ifMatch === 'string' ? request.ifMatch : undefined;
      const execute = () =>
        context.execute({
          route: entryRoute,
          url,
          body: entry.resource,
          headers: { ifMatch: ifMatchHeader },
          caller: outer.caller,
          authorizeEntry: outer.authorizeEntry,
        });
      const result = snapshot ? await context.store.within(snapshot, execute) : await execute();
      responses.push({
        resource: result.body,
        response: {
          status: String(result.status),
          ...(result.headers?.ETag ? { etag: result.headers.ETag } : {}),
        },
      });
    } catch (error) {
      if (atomic && snapshot) {
        context.store.restore(snapshot);
        if (error instanceof HttpError)
          throw new HttpError(error.status, error.code, `transaction entry ${index}: ${error.diagnostics}`);
        throw error;
      }
      const status = error instanceof HttpError ? error.status : 500;
      responses.push({
        response: {
          status: String(status),
          outcome: {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'invalid', diagnostics: (error as Error).message }],
          },
        },
      });
    }
  }
  if (snapshot) context.store.commit(snapshot);
  return {
    status: 200,
    body: { resourceType: 'Bundle', type: `${bundle.type}-response`, entry: responses },
  };
}
