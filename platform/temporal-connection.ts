import { Connection, Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { z } from 'zod';
import type { temporalSchema } from './config.js';

type TemporalConfig = z.infer<typeof temporalSchema>;

function connectionOptions(config: TemporalConfig) {
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(config.TEMPORAL_TLS || config.TEMPORAL_API_KEY ? { tls: true } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

/** A client whose connection is made on first use, so the API starts (and answers /readyz 503) while Temporal is down. */
export function createTemporalClient(
  config: TemporalConfig,
  options: { interceptors?: WorkflowClientInterceptor[] } = {},
): Client {
  const connection = Connection.lazy(connectionOptions(config));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    // Tracing (platform/tracing.ts) carries the request's trace into starts and updates.
    ...(options.interceptors?.length ? { interceptors: { workflow: options.interceptors } } : {}),
  });
}

export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}
