import { serve } from '@hono/node-server';
import { createDb } from '../db/database.js';
import { apiSchema, loadConfigOrExit } from '../platform/config.js';
import { exitWithParent } from '../platform/exit-with-parent.js';
import { createLogger } from '../platform/logger.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { createApp } from './app.js';

const config = loadConfigOrExit(apiSchema);
const log = createLogger('api', config.LOG_LEVEL);
const db = createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
const temporal = createTemporalClient(config);
const app = createApp({ config, db, temporal, log });

const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  log.info({ url: `http://${info.address}:${info.port}` }, 'api listening');
});
server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') log.fatal(`port ${config.PORT} is busy: stop what uses it or set PORT`);
  else log.fatal({ err: error }, 'api server failed');
  process.exit(1);
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  await temporal.connection.close().catch(() => undefined);
  await db.destroy();
  process.exit(0);
}
exitWithParent(() => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
