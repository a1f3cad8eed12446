/**
 * `npm run cluster:build`: finds (or builds, once, with `go install`) the Temporal server,
 * temporal-sql-tool and the Web UI server of the production topology, and checks the schema files.
 * Prints each path. .ci/run uses it. See platform/temporal-cluster-binaries.ts.
 */
import {
  ClusterBinariesNotFound,
  postgresSchemaDir,
  resolveClusterBinaries,
} from '../platform/temporal-cluster-binaries.js';

const started = Date.now();
try {
  const binaries = await resolveClusterBinaries(process.env, (line) =>
    console.error(`[cluster:build] ${line}`),
  );
  const schema = postgresSchemaDir();
  for (const [name, file] of Object.entries(binaries)) console.log(`${name}\t${file}`);
  console.log(`schema\t${schema}`);
  console.error(`[cluster:build] ready in ${Math.round((Date.now() - started) / 1000)} s`);
} catch (error) {
  console.error(error instanceof ClusterBinariesNotFound ? error.message : error);
  process.exit(1);
}
