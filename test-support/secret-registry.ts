import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
import type { SecretStore } from '../credentials/secret-store.js';

/**
 * One registry of every plaintext secret the test run handles, so the run's final check
 * (global-setup.ts teardown) can search what the whole run left behind for all of them, not only
 * for the secrets one test file happened to keep.
 *
 * Why a file: vitest runs test files in separate forked processes, which share nothing in memory;
 * the global setup hands each of them the same path (`inject('secretRegistryFile')`), and each
 * appends one JSON line per secret. Lines this short are written by a single `write` on a file
 * opened for appending, so concurrent writers do not interleave.
 */
export interface RegistryEntry {
  kind: 'secret' | 'canary';
  value: string;
  /** Where it came from, for the failure message (never the value itself). */
  source: string;
}

let registryFile: string | undefined;

function append(entry: RegistryEntry) {
  registryFile ??= inject('secretRegistryFile');
  appendFileSync(registryFile, JSON.stringify(entry) + '\n');
}

export function registerSecret(value: string, source: string): void {
  append({ kind: 'secret', value, source });
}

/**
 * A canary is a value a test sent through the channels on purpose: the final check must find it in
 * the run's persistent stores, which proves its search can find a secret there.
 */
export function registerCanary(value: string, source: string): void {
  append({ kind: 'canary', value, source });
}

export function readRegistry(file: string): RegistryEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RegistryEntry);
}

/** The secret store, with every plaintext it hands out (reveal, provisioning read) registered. */
export function registeringSecretStore(store: SecretStore, source: string): SecretStore {
  return {
    ...store,
    async reveal(serviceId, secretVersion) {
      const secret = await store.reveal(serviceId, secretVersion);
      registerSecret(secret, `${source}: reveal ${serviceId} v${secretVersion}`);
      return secret;
    },
    async readForProvisioning(serviceId, secretVersion) {
      const secret = await store.readForProvisioning(serviceId, secretVersion);
      registerSecret(secret, `${source}: provisioning ${serviceId} v${secretVersion}`);
      return secret;
    },
  };
}

/** The encodings a leaked secret could take in a log, a payload or a URL. */
export function encodedForms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
    Buffer.from(value).toString('hex'),
    encodeURIComponent(value),
  ];
}

/** Which haystacks contain the value, in any of its encoded forms. */
export function whereFound(haystacks: Record<string, string>, value: string): string[] {
  const forms = encodedForms(value);
  return Object.entries(haystacks)
    .filter(([, text]) => forms.some((form) => text.includes(form)))
    .map(([where]) => where);
}
