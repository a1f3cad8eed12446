import { DEFAULT_DATABASE_URL } from '../platform/config.js';

/**
 * The server tests create their databases on: TEST_DATABASE_URL's server, else DATABASE_URL's,
 * else the default local one. Only the database name changes.
 */
export function testDatabaseUrl(databaseName: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = new URL(env.TEST_DATABASE_URL ?? env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  url.pathname = `/${databaseName}`;
  return url.toString();
}
