import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/**
 * OpenTelemetry tracing of one process (README, Operations): spans go over OTLP/HTTP to
 * OTEL_EXPORTER_OTLP_ENDPOINT. Unset, nothing here is even imported: no SDK, no exporter, no
 * instrumentation, and the API's calls into `@opentelemetry/api` stay its no-op defaults.
 */
export interface Tracing {
  resource: Resource;
  /** The batch processor the Node SDK exports through; the worker hands workflow spans to it too. */
  spanProcessor: SpanProcessor;
  /** Client interceptors that carry the trace into workflow starts and updates. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** The worker's: a span per activity run, continuing the trace the workflow passed on. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** The worker's: where the workflow interceptors (workflows/tracing-interceptors.ts) send spans. */
  workflowSinks: InjectedSinks<TracingSinks>;
  shutdown(): Promise<void>;
}

/** The sink the workflow interceptors export spans through, as the package names it. */
export type TracingSinks = { exporter: OpenTelemetryWorkflowExporter };

/**
 * Without tracing the sink still exists and drops what it gets: a workflow sees trace context only
 * when the API traces, and then a worker without tracing simply does not export its spans.
 */
export const droppingWorkflowSinks: InjectedSinks<TracingSinks> = {
  exporter: { export: { fn: () => undefined, callDuringReplay: false } },
};

export interface TracingConfig {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/** Where spans are posted: the OTLP/HTTP base URL with the signal path, as the specification names it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

export async function startTracing(
  config: TracingConfig,
  defaultServiceName: string,
): Promise<Tracing | null> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    { BatchSpanProcessor },
    { Resource },
    { UndiciInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const {
    OpenTelemetryWorkflowClientInterceptor,
    OpenTelemetryActivityInboundInterceptor,
    OpenTelemetryActivityOutboundInterceptor,
    makeWorkflowExporter,
  } = await import('@temporalio/interceptors-opentelemetry');
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? defaultServiceName });
  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: tracesUrl(config.OTEL_EXPORTER_OTLP_ENDPOINT) }),
    // Short delay: a request's spans reach the collector within a second or two.
    { scheduledDelayMillis: 1_000 },
  );
  const sdk = new NodeSDK({
    resource,
    spanProcessors: [spanProcessor],
    // fetch() is undici: the Aidbox client's and the JWKS fetcher's calls become client spans.
    instrumentations: [new UndiciInstrumentation()],
    // Only what we name: no host or process details probed into every span.
    autoDetectResources: false,
  });
  sdk.start();
  return {
    resource,
    spanProcessor,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowSinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    shutdown: () => sdk.shutdown(),
  };
}
