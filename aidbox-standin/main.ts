/**
 * THIS IS NOT AIDBOX. It is a stand-in for the subset of Aidbox this product uses, so that the
 * registry can be developed and tested where Aidbox cannot run (see aidbox-standin/README.md for
 * what it implements and where it differs). Start: `node --import tsx aidbox-standin/main.ts`,
 * configured by STANDIN_* variables (.env.example).
 */
import { parseStandinConfig } from './config.js';
import { startStandin } from './server.js';

let config;
try {
  config = parseStandinConfig(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(78); // EX_CONFIG
}

const label = config.STANDIN_ORGBAC ? 'aidbox stand-in (OrgBAC)' : 'aidbox stand-in';
const standin = await startStandin({
  port: config.STANDIN_PORT,
  host: config.STANDIN_HOST,
  publicUrl: config.STANDIN_PUBLIC_URL ?? `http://localhost:${config.STANDIN_PORT}`,
  orgbac: config.STANDIN_ORGBAC,
  rootClientId: config.STANDIN_ROOT_CLIENT_ID,
  rootClientSecret: config.STANDIN_ROOT_CLIENT_SECRET,
  sampleData: config.STANDIN_SAMPLE_DATA,
  appMode: config.STANDIN_APP_MODE,
  faults: {
    errorRate: config.STANDIN_FAULT_ERROR_RATE,
    latencyMs: config.STANDIN_FAULT_LATENCY_MS,
    dropRate: config.STANDIN_FAULT_DROP_RATE,
  },
  onRequest: config.STANDIN_LOG_REQUESTS
    ? ({ method, path, status, ms }) => console.log(`${method} ${path} ${status} ${ms}ms`)
    : undefined,
}).catch((error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE')
    console.error(`${label}: port ${config.STANDIN_PORT} is busy: stop what uses it or set STANDIN_PORT`);
  else console.error(`${label}: could not start: ${error.message}`);
  process.exit(1);
});

console.log(
  `${label} listening on ${config.STANDIN_HOST}:${config.STANDIN_PORT}, public URL ${standin.url} (${config.STANDIN_APP_MODE} mode)`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await standin.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

// Started by `npm start` in a process group of its own: exit when the orchestrator is gone
// (re-parented), as platform/exit-with-parent.ts does for the product's processes.
if (process.env.EXIT_WITH_PARENT === 'true') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1_000).unref();
}
