/** `npm run temporal:cli`: finds (or builds, once) the Temporal CLI and prints its path. .ci/run uses it. */
import { resolveTemporalCli, TemporalCliNotFound } from '../platform/temporal-cli.js';

try {
  const cli = await resolveTemporalCli();
  console.log(cli.type === 'path' ? cli.path : 'sdk-download');
} catch (error) {
  console.error(error instanceof TemporalCliNotFound ? error.message : error);
  process.exit(1);
}
