import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandSigningKeyFromConfig, commandVerifyKeysFromConfig } from './command-keys.js';
import { generateCommandKeyPair } from './command-tokens.js';
import {
  apiSchema,
  ConfigError,
  DEFAULT_DATABASE_URL,
  parseConfig,
  startSchema,
  workerSchema,
} from './config.js';

describe('configuration', () => {
  it('fills the documented defaults', () => {
    const config = parseConfig(apiSchema, {});
    expect(config.APP_MODE).toBe('production');
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBe(DEFAULT_DATABASE_URL);
    expect(config.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(parseConfig(startSchema, {}).APP_MODE).toBe('development');
  });

  it('fails naming every bad variable and what it got', () => {
    let error: unknown;
    try {
      parseConfig(apiSchema, { PORT: 'eighty', APP_MODE: 'staging', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('"eighty"');
    expect(message).toContain('APP_MODE');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('.env.example');
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig(workerSchema, { TEMPORAL_ADDRESS: '' }).TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
  });
});

describe('command keys (docs/decisions/signed-commands.md)', () => {
  it('production refuses to start without them, naming the missing variable', async () => {
    const api = parseConfig(apiSchema, { APP_MODE: 'production' });
    await expect(commandSigningKeyFromConfig(api)).rejects.toThrow(/COMMAND_SIGNING_KEY: required/);
    const worker = parseConfig(workerSchema, { APP_MODE: 'production' });
    await expect(commandVerifyKeysFromConfig(worker)).rejects.toThrow(/COMMAND_VERIFY_KEYS: required/);
  });

  it('parses a pair, refuses a key without kid or a private key in the verify set, and never echoes a key', async () => {
    const pair = await generateCommandKeyPair('k1');
    const api = parseConfig(apiSchema, { COMMAND_SIGNING_KEY: JSON.stringify(pair.signingKey) });
    expect(api.COMMAND_SIGNING_KEY?.kid).toBe('k1');
    const worker = parseConfig(workerSchema, { COMMAND_VERIFY_KEYS: JSON.stringify(pair.verifyKeys) });
    expect(worker.COMMAND_VERIFY_KEYS?.keys.map((k) => k.kid)).toEqual(['k1']);
    const { kid: _kid, ...noKid } = pair.signingKey;
    expect(() => parseConfig(apiSchema, { COMMAND_SIGNING_KEY: JSON.stringify(noKid) })).toThrow(
      /COMMAND_SIGNING_KEY/,
    );
    let message = '';
    try {
      parseConfig(workerSchema, { COMMAND_VERIFY_KEYS: JSON.stringify({ keys: [pair.signingKey] }) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('COMMAND_VERIFY_KEYS');
    expect(message).not.toContain(String(pair.signingKey.d));
  });

  it('development makes one pair in DATA_DIR on first start and reuses it (API and worker agree)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-command-keys-'));
    try {
      const config = { APP_MODE: 'development' as const, DATA_DIR: dataDir };
      const [signing, verify] = await Promise.all([
        commandSigningKeyFromConfig({ ...config, COMMAND_SIGNING_KEY: undefined }),
        commandVerifyKeysFromConfig({ ...config, COMMAND_VERIFY_KEYS: undefined }),
      ]);
      expect(verify.keys.map((k) => k.kid)).toEqual([signing.kid]);
      expect(verify.keys[0]!.x).toBe(signing.x);
      const again = await commandSigningKeyFromConfig({ ...config, COMMAND_SIGNING_KEY: undefined });
      expect(again).toEqual(signing);
      expect(statSync(path.join(dataDir, 'command-keys.json')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
