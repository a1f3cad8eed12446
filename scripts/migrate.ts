/** `npm run migrate`: creates the database if missing and applies pending migrations. */
import { createDb } from '../db/database.js';
import { ensureDatabase, migrateToLatest } from '../db/migrate.js';
import { databaseSchema, loadConfigOrExit } from '../platform/config.js';

const { DATABASE_URL } = loadConfigOrExit(databaseSchema);
const { created } = await ensureDatabase(DATABASE_URL);
if (created) console.log('database created');
const db = createDb(DATABASE_URL, { poolSize: 1 });
try {
  const result = await migrateToLatest(db);
  for (const r of result.results ?? []) console.log(`${r.status}: ${r.migrationName}`);
  if (!result.results?.length) console.log('no pending migrations');
} finally {
  await db.destroy();
}
