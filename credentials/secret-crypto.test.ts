import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../platform/config.js';
import { credentialsSchema } from './config.js';
import { createKeyring, DEVELOPMENT_KEY_FILE, keyringFromConfig, parseSecretKeys } from './keyring.js';
import {
  decryptSecret,
  encryptSecret,
  generateSecret,
  secretFingerprint,
  SecretDecryptionFailed,
  UnknownSecretKey,
} from './secret-crypto.js';

const binding = { serviceId: 'bs-acme1', secretVersion: 1 };
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const scratch = mkdtempSync(path.join(tmpdir(), 'secret-keys-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('secret generation', () => {
  it('makes 256 random bits, base64url, never the same twice', () => {
    const secrets = new Set(Array.from({ length: 200 }, generateSecret));
    expect(secrets.size).toBe(200);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    }
  });

  it('fingerprints with the first 8 hex characters of SHA-256, which are not characters of the secret', () => {
    expect(secretFingerprint('abc')).toBe('ba7816bf'); // SHA-256("abc") = ba7816bf…
    const secret = generateSecret();
    expect(secretFingerprint(secret)).toMatch(/^[0-9a-f]{8}$/);
    expect(secret.startsWith(secretFingerprint(secret))).toBe(false);
  });
});

describe('AES-256-GCM at rest', () => {
  const keyring = createKeyring(new Map([['a', keyA]]), 'a');

  it('round-trips under the active key ID', () => {
    const secret = generateSecret();
    const encrypted = encryptSecret(keyring, secret, binding);
    expect(encrypted.keyId).toBe('a');
    expect(encrypted.iv).toHaveLength(12);
    expect(encrypted.authTag).toHaveLength(16);
    expect(encrypted.ciphertext.toString('utf8')).not.toContain(secret);
    expect(decryptSecret(keyring, encrypted, binding)).toBe(secret);
  });

  it.each([
    [
      'a flipped ciphertext bit',
      (e: ReturnType<typeof encryptSecret>) => ({
        ...e,
        ciphertext: Buffer.from(e.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b))),
      }),
    ],
    [
      'a flipped tag bit',
      (e: ReturnType<typeof encryptSecret>) => ({
        ...e,
        authTag: Buffer.from(e.authTag.map((b, i) => (i === 3 ? b ^ 0x80 : b))),
      }),
    ],
    [
      'a truncated tag',
      (e: ReturnType<typeof encryptSecret>) => ({ ...e, authTag: e.authTag.subarray(0, 8) }),
    ],
    ['another IV', (e: ReturnType<typeof encryptSecret>) => ({ ...e, iv: randomBytes(12) })],
  ])('rejects %s', (_name, tamper) => {
    const encrypted = encryptSecret(keyring, generateSecret(), binding);
    expect(() => decryptSecret(keyring, tamper(encrypted), binding)).toThrow(SecretDecryptionFailed);
  });

  it.each([
    ['another service', { serviceId: 'bs-other', secretVersion: 1 }],
    ['another version', { serviceId: 'bs-acme1', secretVersion: 2 }],
  ])('rejects a ciphertext moved to %s (additional data)', (_name, elsewhere) => {
    const encrypted = encryptSecret(keyring, generateSecret(), binding);
    expect(() => decryptSecret(keyring, encrypted, elsewhere)).toThrow(SecretDecryptionFailed);
  });

  it('rejects an unknown key ID, and different key material under the same key ID', () => {
    const encrypted = encryptSecret(keyring, generateSecret(), binding);
    expect(() => decryptSecret(keyring, { ...encrypted, keyId: 'zz' }, binding)).toThrow(UnknownSecretKey);
    const impostor = createKeyring(new Map([['a', keyB]]), 'a');
    expect(() => decryptSecret(impostor, encrypted, binding)).toThrow(SecretDecryptionFailed);
  });

  it('rotation: a new active key encrypts, the old key still decrypts', () => {
    const old = encryptSecret(keyring, 'old-secret', binding);
    const rotated = createKeyring(
      new Map([
        ['a', keyA],
        ['b', keyB],
      ]),
      'b',
    );
    const fresh = encryptSecret(rotated, 'new-secret', binding);
    expect(fresh.keyId).toBe('b');
    expect(decryptSecret(rotated, old, binding)).toBe('old-secret');
    expect(decryptSecret(rotated, fresh, binding)).toBe('new-secret');
  });

  it('error messages carry no plaintext and no key material', () => {
    const secret = generateSecret();
    const encrypted = encryptSecret(keyring, secret, binding);
    try {
      decryptSecret(createKeyring(new Map([['a', keyB]]), 'a'), encrypted, binding);
    } catch (error) {
      const text = `${(error as Error).message}\n${(error as Error).stack}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keyB.toString('base64'));
    }
  });
});

describe('keyring configuration', () => {
  it('parses SECRET_KEYS and picks the first key unless SECRET_ACTIVE_KEY_ID says otherwise', () => {
    const value = `k2026:${keyB.toString('base64')},k2025:${keyA.toString('base64url')}`;
    const config = parseConfig(credentialsSchema, { SECRET_KEYS: value });
    expect(keyringFromConfig(config, 'production').activeKeyId).toBe('k2026');
    const pinned = keyringFromConfig(
      parseConfig(credentialsSchema, { SECRET_KEYS: value, SECRET_ACTIVE_KEY_ID: 'k2025' }),
      'production',
    );
    expect(pinned.activeKeyId).toBe('k2025');
    expect(pinned.keys.get('k2025')).toEqual(keyA);
  });

  it.each([
    ['a short key', `k:${randomBytes(16).toString('base64')}`],
    ['no key ID', `:${keyA.toString('base64')}`],
    ['a repeated key ID', `k:${keyA.toString('base64')},k:${keyB.toString('base64')}`],
  ])('refuses %s without echoing key material', (_name, value) => {
    try {
      parseSecretKeys(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain(value.split(':')[1]!.split(',')[0]);
    }
  });

  it('refuses an active key ID that is not configured', () => {
    const config = parseConfig(credentialsSchema, {
      SECRET_KEYS: `a:${keyA.toString('base64')}`,
      SECRET_ACTIVE_KEY_ID: 'b',
    });
    expect(() => keyringFromConfig(config, 'production')).toThrow(
      /SECRET_ACTIVE_KEY_ID 'b' is not among SECRET_KEYS/,
    );
  });

  it('requires SECRET_KEYS in production', () => {
    expect(() =>
      keyringFromConfig(parseConfig(credentialsSchema, { DATA_DIR: scratch }), 'production'),
    ).toThrow(/SECRET_KEYS is required in production/);
  });

  it('in development generates a key into the data folder on first start and reuses it', () => {
    const dataDir = path.join(scratch, 'data');
    const config = parseConfig(credentialsSchema, { DATA_DIR: dataDir });
    const first = keyringFromConfig(config, 'development');
    const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = keyringFromConfig(config, 'development');
    expect(second.activeKeyId).toBe(first.activeKeyId);
    expect(second.keys.get(second.activeKeyId)).toEqual(first.keys.get(first.activeKeyId));
    expect(JSON.parse(readFileSync(file, 'utf8')).keyId).toBe(first.activeKeyId);
  });

  it('the repository ignores the data folder, so the development key is never committed', () => {
    const gitignore = readFileSync(path.join(import.meta.dirname, '..', '.gitignore'), 'utf8');
    expect(gitignore.split('\n')).toContain('data/');
  });
});

describe('credentials configuration fragment', () => {
  it('defaults the JWKS fetch limits to the architecture numbers', async () => {
    const { jwksFetchLimitsFromConfig } = await import('./config.js');
    expect(jwksFetchLimitsFromConfig(parseConfig(credentialsSchema, {}))).toEqual({
      connectTimeoutMs: 3000,
      totalTimeoutMs: 5000,
      maxBytes: 65536,
    });
  });
});
