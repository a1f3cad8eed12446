/**
 * The header in which `@temporalio/interceptors-opentelemetry` carries trace context (its
 * `TRACE_HEADER`; platform/tracing.test.ts pins the two together). Kept here so that telling a
 * traced message from an untraced one loads none of OpenTelemetry into the workflow sandbox.
 */
export const TRACE_HEADER = '_tracer-data';

export const traced = (headers: Record<string, unknown>): boolean => TRACE_HEADER in headers;
