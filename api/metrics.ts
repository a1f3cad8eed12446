import { sql } from 'kysely';
import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/database.js';
import type { Logger } from '../platform/logger.js';
import type { MetricsSource } from '../platform/metrics-server.js';
import { FailureType } from '../workflows/backend-service/failure-types.js';
import { UpdateRefused, type BackendServiceCommands } from './services/commands.js';

/**
 * The API process's Prometheus metrics (README, Operations). Every label has a small, fixed set of
 * values: a route template, never a raw path; a status class, a refusal type. No label ever
 * carries a service ID, owner, e-mail or Organization, so the number of series does not grow with
 * the number of services.
 */
export interface ApiMetrics extends MetricsSource {
  registry: Registry;
  /** Counts and times each request by route template, method and status class. */
  middleware: MiddlewareHandler;
  /** A command the workflow (validator or job) refused: counted by its failure type. */
  commandRefused(type: string): void;
}

const STATUSES = ['draft', 'under_review', 'active', 'rejected'] as const;
const AUTH_METHODS = ['client_secret', 'jwks_uri'] as const;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/**
 * The workflow's refusals: its failure types minus ProjectionFailed, which is an applied change the
 * read model could not record, and ProvisioningFailed, which Aidbox refused, not the workflow.
 * Failures of another kind are not counted here.
 */
const NOT_REFUSALS = new Set<string>([FailureType.ProjectionFailed, FailureType.ProvisioningFailed]);
const REFUSAL_TYPES = new Set<string>(Object.values(FailureType).filter((type) => !NOT_REFUSALS.has(type)));

/**
 * The matched route's template (`/v1/backend-services/:id`). A 404 that only middleware matched
 * (`/*`, `/v1/*`) is `unmatched`: the raw path of a stray request never becomes a label.
 */
export function routeTemplate(routePath: string | undefined, status: number): string {
  if (!routePath || ((routePath === '*' || routePath.endsWith('/*')) && status === 404)) return 'unmatched';
  return routePath;
}

export function createApiMetrics(options: { db: Db; log: Logger; defaultMetrics?: boolean }): ApiMetrics {
  const registry = new Registry();
  // Process CPU, memory, event-loop lag: off in tests that build several apps in one process.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template, method and status class (2xx, 4xx, 5xx).',
    labelNames: ['route', 'method', 'status_class'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template, method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'backend_service_command_refusals_total',
    help: 'Commands a service refused (validator on state alone, a failed re-check, an unverified command), by failure type.',
    labelNames: ['type'],
    registers: [registry],
  });

  // Read from the read model at scrape time: every API instance reports the same numbers, so
  // dashboards and alerts take max() across instances, never sum().
  let lastCounts = new Map<string, number>();
  new Gauge({
    name: 'backend_services',
    help: 'Backend Services in the read model, by status and authentication method.',
    labelNames: ['status', 'auth_method'],
    registers: [registry],
    async collect() {
      try {
        const rows = await options.db
          .selectFrom('backend_services')
          .select(['status', 'auth_method', sql<string>`count(*)`.as('n')])
          .groupBy(['status', 'auth_method'])
          .execute();
        lastCounts = new Map(rows.map((r) => [`${r.status}/${r.auth_method}`, Number(r.n)]));
      } catch (error) {
        // Keep the last numbers: a scrape during a database outage still answers.
        options.log.warn({ err: { message: (error as Error).message } }, 'metrics: read model unavailable');
      }
      this.reset();
      // Every combination, zero included, so `backend_services{status="active"}` exists from the start.
      for (const status of STATUSES)
        for (const authMethod of AUTH_METHODS)
          this.set({ status, auth_method: authMethod }, lastCounts.get(`${status}/${authMethod}`) ?? 0);
    },
  });
  let lastOldest = 0;
  new Gauge({
    name: 'backend_service_review_queue_oldest_seconds',
    help: 'Age of the oldest submission waiting for review (status under_review), 0 when the queue is empty.',
    registers: [registry],
    async collect() {
      try {
        const row = await options.db
          .selectFrom('backend_services')
          .select(sql<Date | null>`min(submitted_at)`.as('oldest'))
          .where('status', '=', 'under_review')
          .executeTakeFirst();
        const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined;
        lastOldest = oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
      } catch {
        // Logged by the gauge above; keep the last value.
      }
      this.set(lastOldest);
    },
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const labels = {
        route: routeTemplate(c.req.routePath, c.res.status),
        method: METHODS.has(c.req.method) ? c.req.method : 'OTHER',
        status_class: `${Math.floor(c.res.status / 100)}xx`,
      };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  return {
    registry,
    middleware,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    commandRefused(type) {
      if (REFUSAL_TYPES.has(type)) refusals.inc({ type });
    },
  };
}

/** The API's port to Temporal, counting each refusal the workflow answers. */
export function countingRefusals(
  commands: BackendServiceCommands,
  metrics: ApiMetrics,
): BackendServiceCommands {
  return {
    start: (input, actor) => commands.start(input, actor),
    async update(serviceId, definition, arg, updateId) {
      try {
        return await commands.update(serviceId, definition, arg, updateId);
      } catch (error) {
        if (error instanceof UpdateRefused) metrics.commandRefused(error.type);
        throw error;
      }
    },
  };
}
