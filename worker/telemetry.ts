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

/**
 * The Temporal SDK metrics that the alerts and the dashboard use (deploy/prometheus,
 * deploy/grafana). api/metrics.test.ts checks that a worker's endpoint serves each of them.
 */
export const SDK_METRICS_USED = [
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_num_pollers',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_workflow_task_execution_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_execution_latency',
  'temporal_sticky_cache_size',
] as const;
