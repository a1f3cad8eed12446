import type { JWK } from 'jose';
import { loadOrCreateDevelopmentCommandKeys } from './command-tokens.js';
import { ConfigError, type ApiConfig, type WorkerConfig } from './config.js';

/**
 * The command keys a process holds (docs/decisions/signed-commands.md): the API signs with
 * COMMAND_SIGNING_KEY, the worker verifies with COMMAND_VERIFY_KEYS. Production refuses to start
 * without them; development makes a pair in DATA_DIR on first start and reuses it.
 */
export async function commandSigningKeyFromConfig(
  config: Pick<ApiConfig, 'APP_MODE' | 'DATA_DIR' | 'COMMAND_SIGNING_KEY'>,
): Promise<JWK & { kid: string }> {
  if (config.COMMAND_SIGNING_KEY) return config.COMMAND_SIGNING_KEY;
  if (config.APP_MODE === 'development')
    return (await loadOrCreateDevelopmentCommandKeys(config.DATA_DIR)).signingKey;
  throw new ConfigError(
    'Invalid configuration:\n  COMMAND_SIGNING_KEY: required in production mode (the private JWK the API signs workflow commands with; see .env.example)',
  );
}

export async function commandVerifyKeysFromConfig(
  config: Pick<WorkerConfig, 'APP_MODE' | 'DATA_DIR' | 'COMMAND_VERIFY_KEYS'>,
): Promise<{ keys: JWK[] }> {
  if (config.COMMAND_VERIFY_KEYS) return config.COMMAND_VERIFY_KEYS;
  if (config.APP_MODE === 'development')
    return (await loadOrCreateDevelopmentCommandKeys(config.DATA_DIR)).verifyKeys;
  throw new ConfigError(
    'Invalid configuration:\n  COMMAND_VERIFY_KEYS: required in production mode (the JWK Set of public keys the worker verifies workflow commands with; see .env.example)',
  );
}
