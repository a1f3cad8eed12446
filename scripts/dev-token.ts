/**
 * `npm run -s dev:token -- <subject> <roles>`: prints a bearer token signed by the development
 * issuer (the key in DATA_DIR, created on first use), for curl and scripts in development mode.
 * Roles are comma-separated, e.g. `developer,admin`. Refuses in production mode.
 */
import { loadOrCreateDevelopmentIssuer } from '../api/auth/local-issuer.js';
import { apiSchema, devIssuerEnabled, loadConfigOrExit } from '../platform/config.js';

// `npm start` runs in development mode, and this script is its companion: default to it.
const config = loadConfigOrExit(apiSchema, { APP_MODE: 'development', ...process.env });
const [subject, roles = 'developer', ...rest] = process.argv.slice(2);
if (!subject || rest.length > 0 || !/^[\w.@-]{1,255}$/.test(subject)) {
  console.error(
    'usage: npm run -s dev:token -- <subject> <roles>   (roles comma-separated, e.g. developer,admin)',
  );
  process.exit(64);
}
if (!devIssuerEnabled(config)) {
  console.error(
    'The development issuer is off (APP_MODE=production or AUTH_DEV_ISSUER=false): no development token.',
  );
  process.exit(78);
}
const issuer = await loadOrCreateDevelopmentIssuer(config.DATA_DIR, {
  audience: config.AUTH_AUDIENCE,
  rolesClaim: config.AUTH_ROLES_CLAIM,
});
const roleList = roles
  .split(',')
  .map((r) => r.trim())
  .filter(Boolean);
const email = subject.includes('@') ? subject : `${subject}@localhost`;
process.stdout.write(
  `${await issuer.sign(subject, roleList, { expiresInSeconds: 12 * 3600, claims: { email } })}\n`,
);
