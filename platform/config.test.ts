import { describe, expect, it } from 'vitest';
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
