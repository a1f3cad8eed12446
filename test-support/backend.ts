import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ActivityDependencies } from '../activities/index.js';
import { AidboxClient, type AidboxConnection } from '../aidbox/client.js';
import { standinProcesses } from '../aidbox-standin/process.js';
import { startStandin, type FaultSettings, type Standin } from '../aidbox-standin/server.js';
import { createKeyring } from '../credentials/keyring.js';
import { createSecretStore, type SecretStore } from '../credentials/secret-store.js';
import type { Db } from '../db/database.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { freePort, waitForHttp } from '../platform/ports.js';
import type { Environment } from '../workflows/backend-service/service-state.js';

/**
 * What the workflow's activities talk to, around a database someone else made: the two Aidbox
 * stand-ins on 127.0.0.1 (sandbox without OrgBAC, production with it), the admin clients of both,
 * a secret store with a key of its own, and the activity dependencies built from them. Free of
 * vitest, so the benchmarks (plain scripts) start the same back end as the tests (system.ts).
 */
export interface Backend {
  /** The in-process stand-ins (not with `standins: 'processes'`). */
  standins: Record<Environment, Standin>;
  /** With `standins: 'processes'`: the stand-ins' process IDs (their CPU is counted apart). */
  standinPids: number[];
  environments: Record<Environment, AidboxConnection>;
  aidbox: Record<Environment, AidboxClient>;
  /** The secret store's AES key: a worker process or an API given it reads the same ciphertexts. */
  secretKey: Buffer;
  secretKeyId: string;
  secretStore: SecretStore;
  deps: ActivityDependencies;
  /** Stops the stand-ins (the database stays the caller's). */
  stop(): Promise<void>;
}

export interface BackendOptions {
  /** The database the activities use. */
  db: Db;
  /**
   * Start the stand-ins (default); without them the Aidbox URLs lead nowhere (a bench that only
   * reads). `processes`: each in a process of its own, as `npm start` runs them, so Aidbox's work
   * is off the activities' event loop as it is in a deployment (the lifecycle bench).
   */
  standins?: boolean | 'processes';
  /** Injected stand-in faults from the start (fault tests). */
  faults?: Partial<FaultSettings>;
  /** Each stand-in request as its log line, tagged with the box. */
  onStandinRequest?: (environment: Environment, line: object) => void;
  /** Called with the stand-ins' admin secret before anything uses it (tests register it as a secret). */
  onRootSecret?: (secret: string) => void;
  aidboxTimeoutMs?: number;
  secretKey?: Buffer;
  secretKeyId?: string;
  /** Wraps the secret store the activities get (tests register every plaintext it hands out). */
  wrapSecretStore?: (store: SecretStore) => SecretStore;
}

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const rootClientSecret = randomBytes(18).toString('base64url');
  options.onRootSecret?.(rootClientSecret);
  const standin = (environment: Environment) =>
    startStandin({
      orgbac: environment === 'production',
      rootClientSecret,
      appMode: 'development',
      resolver: localhostOnlyResolver,
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.onStandinRequest
        ? { onRequest: (line: object) => options.onStandinRequest!(environment, line) }
        : {}),
    });
  const standins =
    options.standins === true || options.standins === undefined
      ? { sandbox: await standin('sandbox'), production: await standin('production') }
      : undefined;
  const processes =
    options.standins === 'processes' ? await startStandinProcesses(rootClientSecret) : undefined;
  const urlOf = (name: Environment) => standins?.[name].url ?? processes?.urls[name] ?? 'http://127.0.0.1:1';
  const environment = (name: Environment): AidboxConnection => ({
    name,
    baseUrl: urlOf(name),
    publicUrl: urlOf(name),
    clientId: 'root',
    clientSecret: rootClientSecret,
    orgbac: name === 'production',
  });
  const environments = { sandbox: environment('sandbox'), production: environment('production') };
  const timeoutMs = options.aidboxTimeoutMs ?? 3_000;
  const aidbox = {
    sandbox: new AidboxClient(environments.sandbox, { timeoutMs }),
    production: new AidboxClient(environments.production, { timeoutMs }),
  };
  const secretKey = options.secretKey ?? randomBytes(32);
  const secretKeyId = options.secretKeyId ?? 'test';
  const store = createSecretStore(
    options.db,
    createKeyring(new Map([[secretKeyId, secretKey]]), secretKeyId),
  );
  const secretStore = options.wrapSecretStore ? options.wrapSecretStore(store) : store;
  return {
    get standins() {
      if (!standins) throw new Error('started without in-process stand-ins');
      return standins;
    },
    standinPids: processes?.pids ?? [],
    environments,
    aidbox,
    secretKey,
    secretKeyId,
    secretStore,
    deps: {
      db: options.db,
      secretStore,
      jwksFetcher: { mode: 'development', resolver: localhostOnlyResolver },
      aidbox,
      orgbac: { sandbox: false, production: true },
    },
    async stop() {
      await standins?.sandbox.stop();
      await standins?.production.stop();
      await processes?.stop();
    },
  };
}

/** The two stand-ins as `npm start` runs them (aidbox-standin/process.ts), on free loopback ports. */
async function startStandinProcesses(rootClientSecret: string) {
  const specs = standinProcesses({
    sandboxPort: await freePort(),
    productionPort: await freePort(),
    rootClientSecret,
  });
  const children = specs.map((spec) =>
    spawn(process.execPath, spec.args, {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, ...spec.env },
      stdio: 'ignore',
    }),
  );
  // Addresses, not names: nothing here resolves a host name.
  const urls = specs.map((spec) => spec.url.replace('//localhost:', '//127.0.0.1:'));
  const stop = async () => {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null ? undefined : new Promise((r) => child.once('exit', r).kill('SIGTERM')),
      ),
    );
  };
  try {
    await Promise.all(urls.map((url) => waitForHttp(`${url}/health`, 30_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls: { sandbox: urls[0]!, production: urls[1]! } as Record<Environment, string>,
    pids: children.map((child) => child.pid!),
    stop,
  };
}

/**
 * The worker process's configuration (worker/main.ts reads it from its environment, as an operator
 * sets it) for a worker on this back end.
 */
export function workerProcessEnv(
  backend: Pick<Backend, 'environments' | 'secretKey' | 'secretKeyId'>,
  target: { databaseUrl: string; temporalAddress: string; taskQueue: string; bundlePath: string },
  commandVerifyKeys: string,
): Record<string, string> {
  const { sandbox, production } = backend.environments;
  return {
    APP_MODE: 'development',
    DATABASE_URL: target.databaseUrl,
    TEMPORAL_ADDRESS: target.temporalAddress,
    TEMPORAL_TASK_QUEUE: target.taskQueue,
    WORKFLOW_BUNDLE_PATH: target.bundlePath,
    SECRET_KEYS: `${backend.secretKeyId}:${backend.secretKey.toString('base64')}`,
    COMMAND_VERIFY_KEYS: commandVerifyKeys,
    SANDBOX_AIDBOX_URL: sandbox.baseUrl,
    SANDBOX_AIDBOX_CLIENT_ID: sandbox.clientId,
    SANDBOX_AIDBOX_CLIENT_SECRET: sandbox.clientSecret,
    PRODUCTION_AIDBOX_URL: production.baseUrl,
    PRODUCTION_AIDBOX_CLIENT_ID: production.clientId,
    PRODUCTION_AIDBOX_CLIENT_SECRET: production.clientSecret,
    PRODUCTION_ORGBAC: String(production.orgbac ?? true),
  };
}
