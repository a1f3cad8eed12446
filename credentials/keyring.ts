import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../platform/config.js';
import type { CredentialsConfig } from './config.js';

/**
 * The keys that encrypt client secrets at rest (docs/architecture.md, Secrets). The active key ID
 * encrypts new secrets; every other key ID only decrypts, so a rotated-out key keeps old
 * ciphertexts readable until they are deleted.
 */
export interface SecretKeyring {
  readonly activeKeyId: string;
  /** key ID → 32-byte AES-256 key */
  readonly keys: ReadonlyMap<string, Buffer>;
}

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export function createKeyring(keys: ReadonlyMap<string, Buffer>, activeKeyId: string): SecretKeyring {
  if (!KEY_ID.test(activeKeyId))
    throw new ConfigError(`secret key ID '${activeKeyId}' is not 1–32 of [A-Za-z0-9_-]`);
  for (const [keyId, key] of keys) {
    if (!KEY_ID.test(keyId)) throw new ConfigError(`secret key ID '${keyId}' is not 1–32 of [A-Za-z0-9_-]`);
    if (key.length !== KEY_BYTES)
      throw new ConfigError(`secret key '${keyId}' must be ${KEY_BYTES} bytes, not ${key.length}`);
  }
  if (!keys.has(activeKeyId))
    throw new ConfigError(`SECRET_ACTIVE_KEY_ID '${activeKeyId}' is not among SECRET_KEYS`);
  return { activeKeyId, keys };
}

/** Parses `kid:base64key,kid:base64key` (SECRET_KEYS). Error messages never contain key material. */
export function parseSecretKeys(value: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    const keyId = separator > 0 ? entry.slice(0, separator) : '';
    if (!KEY_ID.test(keyId)) throw new ConfigError('SECRET_KEYS: every entry must be kid:base64key');
    if (keys.has(keyId)) throw new ConfigError(`SECRET_KEYS: key ID '${keyId}' is listed twice`);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== KEY_BYTES)
      throw new ConfigError(`SECRET_KEYS: key '${keyId}' must decode to ${KEY_BYTES} bytes`);
    keys.set(keyId, key);
  }
  if (keys.size === 0) throw new ConfigError('SECRET_KEYS: no key given');
  return keys;
}

export const DEVELOPMENT_KEY_FILE = 'secret-key.dev.json';

interface DevelopmentKeyFile {
  keyId: string;
  key: string;
}

/**
 * Development only: a key generated into the data folder on first start (the data folder is
 * git-ignored, so the key is never committed) and reused afterwards, so secrets stored in the
 * development database stay readable across restarts.
 */
export function loadOrCreateDevelopmentKeyring(dataDir: string): SecretKeyring {
  const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const created: DevelopmentKeyFile = { keyId: 'dev1', key: randomBytes(KEY_BYTES).toString('base64') };
    // 'wx': never overwrite a key another process wrote a moment ago (that would orphan its ciphertexts).
    try {
      writeFileSync(file, JSON.stringify(created) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevelopmentKeyFile>;
  if (typeof stored.keyId !== 'string' || typeof stored.key !== 'string') {
    throw new ConfigError(`${file} is not a development secret key file; delete it to generate a new one`);
  }
  return createKeyring(new Map([[stored.keyId, Buffer.from(stored.key, 'base64')]]), stored.keyId);
}

/**
 * The keyring a process uses: SECRET_KEYS when set (required in production), else in development
 * the generated key in DATA_DIR.
 */
export function keyringFromConfig(
  config: Pick<CredentialsConfig, 'SECRET_KEYS' | 'SECRET_ACTIVE_KEY_ID' | 'DATA_DIR'>,
  mode: 'development' | 'production',
): SecretKeyring {
  if (config.SECRET_KEYS) {
    const keys = parseSecretKeys(config.SECRET_KEYS);
    const activeKeyId = config.SECRET_ACTIVE_KEY_ID ?? [...keys.keys()][0]!;
    return createKeyring(keys, activeKeyId);
  }
  if (mode === 'production') {
    throw new ConfigError(
      'SECRET_KEYS is required in production (kid:base64key; generate a key with `openssl rand -base64 32`)',
    );
  }
  return loadOrCreateDevelopmentKeyring(config.DATA_DIR);
}
