import type { RuntimeOptions } from '@temporalio/worker';
import { BUSINESS_METRICS, REVIEW_WAIT_BUCKETS } from '../activities/metrics.js';
import type { WorkerConfig } from '../platform/config.js';

type MetricsConfig = Pick<WorkerConfig, 'METRICS_HOST' | 'WORKER_METRICS_PORT'>;

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * The SDK's Prometheus endpoint (`GET /metrics` on METRICS_HOST:WORKER_METRICS_PORT): the Temporal
 * SDK's own metrics (prefixed `temporal_`) and the business metrics the activities record through
 * the SDK's metric meter (activities/metrics.ts). Durations in seconds, as Prometheus expects.
 * WORKER_METRICS_PORT=0: no endpoint, no metrics exporter in the runtime.
 */
export function workerTelemetryOptions(config: MetricsConfig): Pick<RuntimeOptions, 'telemetryOptions'> {
  if (config.WORKER_METRICS_PORT === 0) return {};
  return {
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: hostPort(config.METRICS_HOST, config.WORKER_METRICS_PORT),
          useSecondsForDurations: true,
          histogramBucketOverrides: { [BUSINESS_METRICS.reviewWait]: REVIEW_WAIT_BUCKETS },
        },
      },
    },
  };
}

export function workerMetricsUrl(config: MetricsConfig): string | undefined {
  if (config.WORKER_METRICS_PORT === 0) return undefined;
  return `http://${hostPort(config.METRICS_HOST, config.WORKER_METRICS_PORT)}/metrics`;
}
