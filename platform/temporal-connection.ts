import { readFileSync } from 'node:fs';
import { Connection, Client, type TLSConfig, type WorkflowClientInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { z } from 'zod';
import type { temporalSchema } from './config.js';

type TemporalConfig = z.infer<typeof temporalSchema>;

/** TLS settings: mTLS with files named by TEMPORAL_TLS_*_FILE, or plain TLS (`true`), or none. */
export function tlsFromConfig(config: TemporalConfig): TLSConfig | true | undefined {
  const files = config.TEMPORAL_TLS_CA_FILE || config.TEMPORAL_TLS_CERT_FILE || config.TEMPORAL_TLS_KEY_FILE;
  if (files) {
    if (!!config.TEMPORAL_TLS_CERT_FILE !== !!config.TEMPORAL_TLS_KEY_FILE)
      throw new Error('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together');
    return {
      ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(config.TEMPORAL_TLS_CA_FILE
        ? { serverRootCACertificate: readFileSync(config.TEMPORAL_TLS_CA_FILE) }
        : {}),
      ...(config.TEMPORAL_TLS_CERT_FILE && config.TEMPORAL_TLS_KEY_FILE
        ? {
            clientCertPair: {
              crt: readFileSync(config.TEMPORAL_TLS_CERT_FILE),
              key: readFileSync(config.TEMPORAL_TLS_KEY_FILE),
            },
          }
        : {}),
    };
  }
  return config.TEMPORAL_TLS || config.TEMPORAL_API_KEY || config.TEMPORAL_API_KEY_FILE ? true : undefined;
}

function readApiKey(config: TemporalConfig): string | undefined {
  if (config.TEMPORAL_API_KEY_FILE) return readFileSync(config.TEMPORAL_API_KEY_FILE, 'utf8').trim();
  return config.TEMPORAL_API_KEY;
}

function connectionOptions(config: TemporalConfig) {
  const tls = tlsFromConfig(config);
  const apiKey = readApiKey(config);
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/**
 * Re-reads TEMPORAL_API_KEY_FILE periodically and hands a changed token to the live connection
 * (`setApiKey`), so a renewed token is used before the old one expires. Returns the stopper.
 */
export function watchApiKeyFile(
  config: TemporalConfig,
  apply: (token: string) => unknown,
  onError: (error: unknown) => void = () => undefined,
): () => void {
  if (!config.TEMPORAL_API_KEY_FILE) return () => undefined;
  let current = readApiKey(config);
  const timer = setInterval(() => {
    try {
      const next = readApiKey(config);
      if (next && next !== current) {
        current = next;
        void Promise.resolve(apply(next)).catch(onError);
      }
    } catch (error) {
      onError(error);
    }
  }, config.TEMPORAL_API_KEY_REFRESH_SECONDS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** A client whose connection is made on first use, so the API starts (and answers /readyz 503) while Temporal is down. */
export function createTemporalClient(
  config: TemporalConfig,
  options: { interceptors?: WorkflowClientInterceptor[] } = {},
): Client {
  const connection = Connection.lazy(connectionOptions(config));
  watchApiKeyFile(config, (token) => connection.setApiKey(token));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    // Tracing (platform/tracing.ts) carries the request's trace into starts and updates.
    ...(options.interceptors?.length ? { interceptors: { workflow: options.interceptors } } : {}),
  });
}

export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  const connection = await NativeConnection.connect(connectionOptions(config));
  watchApiKeyFile(config, (token) => connection.setApiKey(token));
  return connection;
}
