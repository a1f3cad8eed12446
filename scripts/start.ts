/**
 * `npm start`: the whole development stack in one command: PostgreSQL (existing or a private
 * cluster), migrations, the Temporal dev server with its Web UI, the worker and the API. Prints
 * every URL; Ctrl-C stops everything in order and leaves no process behind.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { standinProcesses } from '../aidbox-standin/process.js';
import { createDb } from '../db/database.js';
import { ensureDatabase, migrateToLatest } from '../db/migrate.js';
import { loadConfigOrExit, startSchema } from '../platform/config.js';
import { assertPortsFree, createLauncher, redactUrl, standinClientEnv } from '../platform/launcher.js';
import { waitForHttp } from '../platform/ports.js';
import { choosePostgres, type PostgresChoice } from '../platform/postgres-local.js';
import {
  appendCaughtMail,
  CAUGHT_MAIL_FILE,
  startMailCatcher,
  type MailCatcher,
} from '../notifications/dev-mail.js';
import { supervise, type Supervised } from '../platform/supervisor.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { startDevServer, type DevServer } from '../platform/temporal-dev-server.js';
import { workerV8FlagsFromEnv } from '../worker/memory-plan.js';

const config = loadConfigOrExit(startSchema);
const dataDir = path.resolve(config.DATA_DIR);
const startedAt = Date.now();

const children: Supervised[] = [];
let temporal: DevServer | undefined;
let postgres: PostgresChoice | undefined;
let mailCatcher: MailCatcher | undefined;

const launcher = createLauncher('start', async () => {
  // Reverse order of start: the API stops taking requests before the worker and Temporal go.
  for (const child of [...children].reverse()) await child.stop();
  if (temporal) await temporal.stop();
  await mailCatcher?.close();
  try {
    postgres?.stop?.();
  } catch (error) {
    launcher.say(`could not stop the private PostgreSQL cluster: ${(error as Error).message}`);
  }
});
const say = launcher.say;

async function main() {
  // Port 0 turns a metrics listener off.
  await assertPortsFree([
    [config.PORT, 'API and UIs', 'PORT'],
    [config.TEMPORAL_PORT, 'Temporal gRPC', 'TEMPORAL_PORT'],
    [config.TEMPORAL_UI_PORT, 'Temporal Web UI', 'TEMPORAL_UI_PORT'],
    [config.SANDBOX_AIDBOX_PORT, 'Aidbox stand-in, sandbox', 'SANDBOX_AIDBOX_PORT'],
    [config.PRODUCTION_AIDBOX_PORT, 'Aidbox stand-in, production', 'PRODUCTION_AIDBOX_PORT'],
    [config.API_METRICS_PORT, 'API metrics', 'API_METRICS_PORT'],
    [config.WORKER_METRICS_PORT, 'worker metrics', 'WORKER_METRICS_PORT'],
    [config.SMTP_CATCHER_PORT, 'SMTP catcher', 'SMTP_CATCHER_PORT'],
  ]);

  const cli = await resolveTemporalCli(process.env, say);
  if (cli.type !== 'path') throw new Error('npm start needs a Temporal CLI binary (see README).');

  postgres = await choosePostgres(process.env, path.join(dataDir, 'postgres'), say);
  const { created } = await ensureDatabase(postgres.url);
  const db = createDb(postgres.url, { poolSize: 1 });
  const migrations = await migrateToLatest(db);
  await db.destroy();
  say(
    `PostgreSQL ready (${postgres.source}${created ? ', database created' : ''}; ` +
      `${migrations.results?.length ?? 0} migration(s) applied)`,
  );

  temporal = await startDevServer({
    cli: cli.path,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: path.join(dataDir, 'temporal', 'dev.db'),
    namespace: config.TEMPORAL_NAMESPACE,
    output: process.stderr,
    detached: true,
  });
  say(`Temporal dev server ready at ${temporal.address}`);

  const onExit = launcher.onUnexpectedExit;
  const node = process.execPath;

  // The Aidbox stand-ins (in memory: their Clients and policies are gone after a restart, while
  // Temporal's state persists in DATA_DIR). A fresh admin secret per start, handed to our processes only.
  const aidboxAdminSecret = randomBytes(24).toString('base64url');
  const standins = standinProcesses({
    sandboxPort: config.SANDBOX_AIDBOX_PORT,
    productionPort: config.PRODUCTION_AIDBOX_PORT,
    rootClientSecret: aidboxAdminSecret,
    appMode: config.APP_MODE,
  });
  for (const spec of standins) {
    children.push(supervise(spec.name, node, spec.args, { ...process.env, ...spec.env }, onExit));
  }
  await Promise.all(
    standins.map((spec) => waitForHttp(`${spec.url.replace('localhost', '127.0.0.1')}/health`, 30_000)),
  );

  // Development mail goes to a local catcher (smtp-server on 127.0.0.1); GET /dev/mail lists it.
  mailCatcher = await startMailCatcher({
    port: config.SMTP_CATCHER_PORT,
    onMail: (mail) => appendCaughtMail(path.join(dataDir, CAUGHT_MAIL_FILE), mail),
  });
  say(`SMTP catcher listening on 127.0.0.1:${mailCatcher.port}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    APP_MODE: config.APP_MODE,
    DATA_DIR: dataDir,
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_UI_URL: temporal.uiUrl,
    PORT: String(config.PORT),
    ...standinClientEnv(standins, aidboxAdminSecret),
    METRICS_HOST: config.METRICS_HOST,
    API_METRICS_PORT: String(config.API_METRICS_PORT),
    WORKER_METRICS_PORT: String(config.WORKER_METRICS_PORT),
    SMTP_URL: `smtp://127.0.0.1:${mailCatcher.port}`,
    PUBLIC_URL: process.env.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
  };
  // The heap limits of the worker's memory budget (worker/memory-plan.ts).
  const workerArgs = [...workerV8FlagsFromEnv(env), '--import', 'tsx', 'worker/main.ts'];
  children.push(supervise('worker', node, workerArgs, env, onExit));
  children.push(supervise('api', node, ['--import', 'tsx', 'api/main.ts'], env, onExit));

  const apiUrl = `http://localhost:${config.PORT}`;
  await waitForHttp(`http://127.0.0.1:${config.PORT}/readyz`, 60_000);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const lines = [
    '',
    `Backend Services registry is up (${config.APP_MODE} mode, ready in ${seconds} s):`,
    `  Developer portal    ${apiUrl}/portal   (sign in at ${apiUrl}/login as a development user)`,
    `  Review UI           ${apiUrl}/admin`,
    `  API                 ${apiUrl}/v1       (docs ${apiUrl}/docs, ${apiUrl}/openapi.json; /healthz, /readyz)`,
    `  Temporal Web UI     ${temporal.uiUrl}`,
    `  Temporal gRPC       ${temporal.address}   (namespace ${config.TEMPORAL_NAMESPACE})`,
    `  Aidbox sandbox      ${standins[0].url}   (stand-in, no OrgBAC; FHIR base ${standins[0].url}/fhir)`,
    `  Aidbox production   ${standins[1].url}   (stand-in, OrgBAC; FHIR base ${standins[1].url}/Organization/<id>/fhir)`,
    `  PostgreSQL          ${redactUrl(postgres.url)}`,
    `  API metrics         ${metricsUrl(config.METRICS_HOST, config.API_METRICS_PORT)}`,
    `  Worker metrics      ${metricsUrl(config.METRICS_HOST, config.WORKER_METRICS_PORT)}   (Temporal SDK and business metrics)`,
    `  Caught mail         ${apiUrl}/dev/mail   (admin token; SMTP catcher on 127.0.0.1:${mailCatcher.port})`,
    `  Traces              ${config.OTEL_EXPORTER_OTLP_ENDPOINT ? `OTLP/HTTP to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`,
    `  Data folder         ${dataDir}`,
    'Press Ctrl-C to stop everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function metricsUrl(host: string, port: number): string {
  if (port === 0) return 'off';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
}

launcher.run(main);
