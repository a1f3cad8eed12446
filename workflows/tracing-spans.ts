/**
 * The OpenTelemetry half of the workflow tracing interceptors (workflows/tracing-interceptors.ts
 * loads it on a workflow's first traced message). It builds on `@temporalio/interceptors-opentelemetry`
 * and adds what an entity workflow needs:
 *
 * - `RunWorkflow:<type>` is a short span marking the run's start. The package's span lasts the whole
 *   run, which for a service is its whole life: it would be exported only at deactivation, leaving
 *   the creating request's activity spans without their parent until then.
 * - The main loop, not the update handler, runs a job's activities, so they would hang under the run
 *   and not under the request that asked for them. Each job runs in a cancellation scope of its own
 *   (the main loop's `cancellable`); the first activity a job schedules adopts the trace of the
 *   update waiting for it, in the order the updates were queued (a deactivation first, as the
 *   queue does). An update answered without a job (a retry already applied) is dropped when it
 *   completes. A job no update waits for (set-up, the sandbox retry) stays under the run's span.
 *
 * Spans leave the workflow through the `exporter` sink (platform/tracing.ts); during replay nothing is
 * exported, and span IDs come from the workflow's seeded randomness, so a replay makes the same ones.
 */
import * as otel from '@opentelemetry/api';
import { extractContextFromHeaders } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  CancellationScope,
  currentUpdateInfo,
  workflowInfo,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { traced } from './trace-header.js';

/** The outermost scope under the root: the scope the main loop made for the job in progress. */
function jobScope(): CancellationScope | undefined {
  let scope: CancellationScope | undefined = CancellationScope.current();
  while (scope?.parent && scope.parent.parent) scope = scope.parent;
  return scope?.parent ? scope : undefined;
}

export interface TracedInterceptors {
  inbound: Required<Pick<WorkflowInboundCallsInterceptor, 'execute' | 'handleUpdate' | 'validateUpdate'>>;
  outbound: Required<
    Pick<WorkflowOutboundCallsInterceptor, 'scheduleActivity' | 'scheduleLocalActivity' | 'continueAsNew'>
  >;
  internals: Required<Pick<WorkflowInternalsInterceptor, 'dispose'>>;
}

/** One workflow's tracing interceptors (its own span state); tracing-interceptors.ts makes them on the first traced message. */
export function tracedInterceptors(): TracedInterceptors {
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const tracer = otel.trace.getTracer('backend-services-workflow');
  let active = false;
  /** Updates whose job has not scheduled anything yet, in queue order. */
  const waiting: Array<{ updateId: string; context: otel.Context }> = [];
  const jobContexts = new WeakMap<CancellationScope, otel.Context | null>();

  const contextForMainLoop = (): otel.Context | null => {
    const scope = jobScope();
    if (!scope) return null;
    let context = jobContexts.get(scope);
    if (context === undefined) {
      context = waiting.shift()?.context ?? null;
      jobContexts.set(scope, context);
    }
    return context;
  };

  return {
    inbound: {
      async execute(input, next) {
        const parent = extractContextFromHeaders(input.headers);
        if (!parent) return next(input);
        active = true;
        const span = tracer.startSpan(`RunWorkflow:${workflowInfo().workflowType}`, {}, parent);
        try {
          return await otel.context.with(otel.trace.setSpan(parent, span), () => {
            const running = next(input);
            span.end();
            return running;
          });
        } finally {
          if (span.isRecording()) span.end();
        }
      },
      handleUpdate(input, next) {
        if (!traced(input.headers)) return next(input);
        active = true;
        return inbound.handleUpdate(input, async (handled) => {
          const entry = { updateId: input.updateId, context: otel.context.active() };
          // The queue puts a deactivation first (update-queue.ts, jumpQueue); the trace follows it.
          if (input.name === 'deactivate') waiting.unshift(entry);
          else waiting.push(entry);
          try {
            return await next(handled);
          } finally {
            const i = waiting.indexOf(entry);
            if (i >= 0) waiting.splice(i, 1);
          }
        });
      },
      validateUpdate(input, next) {
        if (!traced(input.headers)) return next(input);
        return inbound.validateUpdate(input, next);
      },
    },
    outbound: {
      scheduleActivity(input, next) {
        if (!active) return next(input);
        // An update handler's own activities already run in its context.
        if (currentUpdateInfo()) return outbound.scheduleActivity(input, next);
        const context = contextForMainLoop();
        if (!context) return outbound.scheduleActivity(input, next);
        return otel.context.with(context, () => outbound.scheduleActivity(input, next));
      },
      scheduleLocalActivity(input, next) {
        if (!active) return next(input);
        return outbound.scheduleLocalActivity(input, next);
      },
      continueAsNew(input, next) {
        if (!active) return next(input);
        return outbound.continueAsNew(input, next);
      },
    },
    internals: new OpenTelemetryInternalsInterceptor(),
  };
}
