/**
 * `npm run cluster`: the production topology on this machine (README "Deployment"): Temporal as four
 * server processes on PostgreSQL with mTLS and JWT authorization, the Web UI server (read-only), two
 * workers, two APIs, the two Aidbox stand-ins. Prints every URL; Ctrl-C stops everything in reverse
 * order and leaves no process behind (each child runs in its own process group, as under npm start).
 */
import path from 'node:path';
import { clusterDataDir, startTopology, type Topology } from '../platform/cluster-topology.js';
import { clusterSchema, DEFAULT_DATABASE_URL, loadConfigOrExit } from '../platform/config.js';
import { assertPortsFree, createLauncher, redactUrl } from '../platform/launcher.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { postgresSchemaDir, resolveClusterBinaries } from '../platform/temporal-cluster-binaries.js';
import { postgresFromUrl } from '../platform/temporal-cluster-config.js';

const config = loadConfigOrExit(clusterSchema);
const dataDir = path.resolve(config.DATA_DIR);
const startedAt = Date.now();
let topology: Topology | undefined;

const launcher = createLauncher('cluster', async () => {
  await topology?.stop();
});
const say = launcher.say;

async function main() {
  await assertPortsFree([
    [config.CLUSTER_TEMPORAL_PORT, 'Temporal frontend', 'CLUSTER_TEMPORAL_PORT'],
    [config.CLUSTER_TEMPORAL_UI_PORT, 'Temporal Web UI', 'CLUSTER_TEMPORAL_UI_PORT'],
    [config.CLUSTER_API_PORTS[0], 'API 1', 'CLUSTER_API_PORTS'],
    [config.CLUSTER_API_PORTS[1], 'API 2', 'CLUSTER_API_PORTS'],
    [config.CLUSTER_SANDBOX_AIDBOX_PORT, 'Aidbox stand-in, sandbox', 'CLUSTER_SANDBOX_AIDBOX_PORT'],
    [config.CLUSTER_PRODUCTION_AIDBOX_PORT, 'Aidbox stand-in, production', 'CLUSTER_PRODUCTION_AIDBOX_PORT'],
  ]);
  const binaries = await resolveClusterBinaries(process.env, say);
  const cli = await resolveTemporalCli(process.env, say);
  if (cli.type !== 'path') throw new Error('npm run cluster needs a Temporal CLI binary (see README).');

  const server = new URL(config.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const databaseUrl = new URL(`/${config.CLUSTER_DATABASE}`, server).toString();
  const label = (name: string) => `[${name}]`.padEnd(20);
  topology = await startTopology({
    binaries,
    cli: cli.path,
    schemaDir: postgresSchemaDir(),
    dir: clusterDataDir(dataDir),
    issuerDir: dataDir,
    dataDir,
    postgres: postgresFromUrl(server.toString()),
    databaseUrl,
    temporalDatabase: config.CLUSTER_TEMPORAL_DATABASE,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    frontendPort: config.CLUSTER_TEMPORAL_PORT,
    uiPort: config.CLUSTER_TEMPORAL_UI_PORT,
    apiPorts: config.CLUSTER_API_PORTS,
    standinPorts: [config.CLUSTER_SANDBOX_AIDBOX_PORT, config.CLUSTER_PRODUCTION_AIDBOX_PORT],
    tokenTtlSeconds: config.CLUSTER_TOKEN_TTL_SECONDS,
    output: (name, line) => process.stdout.write(`${label(name)} ${line}\n`),
    onUnexpectedExit: launcher.onUnexpectedExit,
    say,
  });
  const t = topology.temporal;
  const [api1, api2] = topology.apiUrls;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Production topology is up (ready in ${seconds} s):`,
      `  API 1               ${api1}/v1  (portal ${api1}/portal, review ${api1}/admin, docs ${api1}/docs)`,
      `  API 2               ${api2}/v1  (portal ${api2}/portal, review ${api2}/admin)`,
      `  Temporal Web UI     ${t.uiUrl}   (read-only; an identity proxy adds the UI's ${t.namespace}:read token)`,
      `  Temporal frontend   ${t.address}   (mTLS: CA and client certificates in ${t.certs.dir}; JWT required)`,
      `  Temporal JWKS       ${t.jwksUrl}   (development issuer's keys, the server's key source)`,
      `  Tokens              ${path.dirname(t.tokenFiles.api)}   (renewed at half their lifetime)`,
      `  Aidbox sandbox      ${topology.standinUrls[0]}`,
      `  Aidbox production   ${topology.standinUrls[1]}`,
      `  PostgreSQL          ${redactUrl(databaseUrl)}; Temporal: ${config.CLUSTER_TEMPORAL_DATABASE}, ${config.CLUSTER_TEMPORAL_DATABASE}_visibility`,
      `  Operator CLI        TEMPORAL_ADDRESS=${t.address} TEMPORAL_TLS_CA=${t.certs.ca} \\`,
      `                      TEMPORAL_TLS_CERT=${t.certs.clients.admin.cert} TEMPORAL_TLS_KEY=${t.certs.clients.admin.key} \\`,
      `                      TEMPORAL_TLS_SERVER_NAME=temporal-frontend TEMPORAL_API_KEY="$(cat ${t.tokenFiles.ui})" temporal workflow list`,
      'Press Ctrl-C to stop everything.',
      '',
    ].join('\n') + '\n',
  );
}

launcher.run(main);
