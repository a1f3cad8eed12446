/**
 * Workflow interceptors for OpenTelemetry tracing (not a workflow): the worker registers this
 * module in `interceptors.workflowModules`, so it is bundled with the workflow code.
 *
 * Nothing happens for messages that carry no trace context (an API without tracing): no span is
 * made and the interceptors pass straight through. OpenTelemetry itself (workflows/tracing-spans.ts
 * and the ~120 modules it imports) is loaded only on a workflow's first traced message. The
 * sandbox instantiates a workflow's modules once per workflow, when it starts or is replayed into
 * the cache: loading OpenTelemetry eagerly cost every workflow about 220 KiB of heap and 5 ms of
 * the workflow thread, traced or not (docs/decisions/worker-memory.md).
 */
import type { WorkflowInterceptors, WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { traced } from './trace-header.js';
import type * as TracingSpans from './tracing-spans.js';
import type { TracedInterceptors } from './tracing-spans.js';

export const interceptors: WorkflowInterceptorsFactory = (): WorkflowInterceptors => {
  let spans: TracedInterceptors | undefined;
  const load = (): TracedInterceptors => {
    // A synchronous require: webpack resolves it into the bundle, and it runs only when called.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    spans ??= (require('./tracing-spans.js') as typeof TracingSpans).tracedInterceptors();
    return spans;
  };
  return {
    inbound: [
      {
        execute(input, next) {
          if (!spans && !traced(input.headers)) return next(input);
          return load().inbound.execute(input, next);
        },
        handleUpdate(input, next) {
          if (!spans && !traced(input.headers)) return next(input);
          return load().inbound.handleUpdate(input, next);
        },
        validateUpdate(input, next) {
          if (!spans && !traced(input.headers)) return next(input);
          return load().inbound.validateUpdate(input, next);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) =>
          spans ? spans.outbound.scheduleActivity(input, next) : next(input),
        scheduleLocalActivity: (input, next) =>
          spans ? spans.outbound.scheduleLocalActivity(input, next) : next(input),
        continueAsNew: (input, next) => (spans ? spans.outbound.continueAsNew(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => (spans ? spans.internals.dispose(input, next) : next(input)),
      },
    ],
  };
};
