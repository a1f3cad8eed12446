/**
 * `npm run -s command-keys -- <kid> [current COMMAND_VERIFY_KEYS]`: a new command key pair, as the
 * two lines of an env file. With the current verify set, the new public key is added to it (key
 * rotation: deploy the workers with both, then the API with the new signing key, then drop the old
 * public key). See README, Security.
 */
import { commandVerifyKeysSchema, generateCommandKeyPair } from '../platform/command-tokens.js';

const [kid, current] = process.argv.slice(2);
if (!kid || !/^[A-Za-z0-9_.-]{1,64}$/.test(kid)) {
  console.error('usage: npm run -s command-keys -- <kid> [current COMMAND_VERIFY_KEYS JSON]');
  process.exit(64);
}
const pair = await generateCommandKeyPair(kid);
const previous = current ? commandVerifyKeysSchema.parse(current).keys.filter((k) => k.kid !== kid) : [];
console.log(`COMMAND_SIGNING_KEY='${JSON.stringify(pair.signingKey)}'`);
console.log(`COMMAND_VERIFY_KEYS='${JSON.stringify({ keys: [...previous, ...pair.verifyKeys.keys] })}'`);
