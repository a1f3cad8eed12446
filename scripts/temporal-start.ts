/** `npm run temporal:start`: the Temporal dev server alone, with the Web UI and our search attributes. */
import path from 'node:path';
import { loadConfigOrExit, startSchema } from '../platform/config.js';
import { isPortBusy } from '../platform/ports.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { startDevServer } from '../platform/temporal-dev-server.js';

const config = loadConfigOrExit(startSchema);
for (const [port, variable] of [
  [config.TEMPORAL_PORT, 'TEMPORAL_PORT'],
  [config.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT'],
] as const) {
  if (await isPortBusy(port)) {
    console.error(`Port ${port} is busy: stop what uses it, or set ${variable}.`);
    process.exit(1);
  }
}
const cli = await resolveTemporalCli();
if (cli.type !== 'path') throw new Error('temporal:start needs a Temporal CLI binary');
const server = await startDevServer({
  cli: cli.path,
  port: config.TEMPORAL_PORT,
  uiPort: config.TEMPORAL_UI_PORT,
  dbFile: path.resolve(config.DATA_DIR, 'temporal', 'dev.db'),
  namespace: config.TEMPORAL_NAMESPACE,
  output: 'inherit',
});
console.log(`Temporal dev server: gRPC ${server.address}, Web UI ${server.uiUrl}. Ctrl-C stops it.`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
