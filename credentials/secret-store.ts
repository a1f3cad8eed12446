import type { Db } from '../db/database.js';
import type { SecretKeyring } from './keyring.js';
import {
  decryptSecret,
  encryptSecret,
  generateSecret,
  secretFingerprint,
  type EncryptedSecret,
  type SecretBinding,
} from './secret-crypto.js';

/**
 * Encrypted client secrets in PostgreSQL (docs/architecture.md, Secrets). The plaintext exists only in
 * memory: it is encrypted before the insert, decrypted for the one reveal and for provisioning.
 * No method result other than `reveal` and `readForProvisioning` carries it, and no error message does.
 */
export interface CreatedSecret {
  secretVersion: number;
  fingerprint: string;
}

export interface SecretStore {
  /**
   * Generates and stores a new secret version. With `secretVersion` the call is idempotent: a retry
   * for a version that exists returns that version's fingerprint and creates nothing.
   */
  create(serviceId: string, options?: { secretVersion?: number }): Promise<CreatedSecret>;
  /** The plaintext, for pushing it to Aidbox; does not mark it shown. */
  readForProvisioning(serviceId: string, secretVersion: number): Promise<string>;
  /** The plaintext exactly once: the first call marks the version shown, any later call throws SecretAlreadyShown. */
  reveal(serviceId: string, secretVersion: number): Promise<string>;
  isShown(serviceId: string, secretVersion: number): Promise<boolean>;
  /**
   * Deletes the ciphertext once the version has been shown; returns whether it is gone. Callers ask
   * only once every Aidbox that holds the client has the secret.
   */
  deleteIfDone(serviceId: string, secretVersion: number): Promise<boolean>;
  /** Deactivation: deletes the ciphertext of every version of the service. */
  deleteAll(serviceId: string): Promise<void>;
  /** A dropped staged secret: deletes the ciphertext of that version (the row stays, as a record). */
  deleteVersion(serviceId: string, secretVersion: number): Promise<void>;
}

export class SecretNotFound extends Error {
  override name = 'SecretNotFound';
  constructor({ serviceId, secretVersion }: SecretBinding) {
    super(`service '${serviceId}' has no secret version ${secretVersion}`);
  }
}

export class SecretAlreadyShown extends Error {
  override name = 'SecretAlreadyShown';
  constructor({ serviceId, secretVersion }: SecretBinding) {
    super(
      `secret version ${secretVersion} of service '${serviceId}' has already been shown; it is never shown twice`,
    );
  }
}

export class SecretCiphertextDeleted extends Error {
  override name = 'SecretCiphertextDeleted';
  constructor({ serviceId, secretVersion }: SecretBinding) {
    super(
      `the stored copy of secret version ${secretVersion} of service '${serviceId}' has been deleted ` +
        '(shown and provisioned, or the service was deactivated); rotate the secret to get a new one',
    );
  }
}

interface CiphertextColumns {
  key_id: string | null;
  iv: Buffer | null;
  ciphertext: Buffer | null;
  auth_tag: Buffer | null;
}

function encryptedFrom(row: CiphertextColumns): EncryptedSecret | null {
  if (!row.key_id || !row.iv || !row.ciphertext || !row.auth_tag) return null;
  return { keyId: row.key_id, iv: row.iv, ciphertext: row.ciphertext, authTag: row.auth_tag };
}

const CREATE_ATTEMPTS = 5;

export function createSecretStore(db: Db, keyring: SecretKeyring): SecretStore {
  async function insert(serviceId: string, secretVersion: number): Promise<CreatedSecret | 'taken'> {
    const secret = generateSecret();
    const encrypted = encryptSecret(keyring, secret, { serviceId, secretVersion });
    const fingerprint = secretFingerprint(secret);
    const inserted = await db
      .insertInto('client_secret')
      .values({
        service_id: serviceId,
        secret_version: secretVersion,
        fingerprint,
        key_id: encrypted.keyId,
        iv: encrypted.iv,
        ciphertext: encrypted.ciphertext,
        auth_tag: encrypted.authTag,
      })
      .onConflict((oc) => oc.columns(['service_id', 'secret_version']).doNothing())
      .returning('secret_version')
      .executeTakeFirst();
    return inserted ? { secretVersion, fingerprint } : 'taken';
  }

  async function readEncrypted(binding: SecretBinding): Promise<EncryptedSecret> {
    const row = await db
      .selectFrom('client_secret')
      .select(['key_id', 'iv', 'ciphertext', 'auth_tag'])
      .where('service_id', '=', binding.serviceId)
      .where('secret_version', '=', binding.secretVersion)
      .executeTakeFirst();
    if (!row) throw new SecretNotFound(binding);
    const encrypted = encryptedFrom(row);
    if (!encrypted) throw new SecretCiphertextDeleted(binding);
    return encrypted;
  }

  return {
    async create(serviceId, options = {}) {
      if (options.secretVersion !== undefined) {
        const secretVersion = options.secretVersion;
        const result = await insert(serviceId, secretVersion);
        if (result !== 'taken') return result;
        const existing = await db
          .selectFrom('client_secret')
          .select('fingerprint')
          .where('service_id', '=', serviceId)
          .where('secret_version', '=', secretVersion)
          .executeTakeFirstOrThrow();
        return { secretVersion, fingerprint: existing.fingerprint };
      }
      // Next version = highest + 1; a concurrent create that takes the same number makes us try the next.
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const { latest } = await db
          .selectFrom('client_secret')
          .select((eb) => eb.fn.max('secret_version').as('latest'))
          .where('service_id', '=', serviceId)
          .executeTakeFirstOrThrow();
        const result = await insert(serviceId, (latest ?? 0) + 1);
        if (result !== 'taken') return result;
      }
      throw new Error(`could not allocate a secret version for service '${serviceId}' (concurrent creates)`);
    },

    async readForProvisioning(serviceId, secretVersion) {
      const binding = { serviceId, secretVersion };
      return decryptSecret(keyring, await readEncrypted(binding), binding);
    },

    async reveal(serviceId, secretVersion) {
      const binding = { serviceId, secretVersion };
      // Lock the row, decrypt, then mark shown in the same transaction: a failed decryption leaves
      // the version unshown, and two concurrent reveals cannot both see it unshown.
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('client_secret')
          .select(['key_id', 'iv', 'ciphertext', 'auth_tag', 'shown_at'])
          .where('service_id', '=', serviceId)
          .where('secret_version', '=', secretVersion)
          .forUpdate()
          .executeTakeFirst();
        if (!row) throw new SecretNotFound(binding);
        if (row.shown_at !== null) throw new SecretAlreadyShown(binding);
        const encrypted = encryptedFrom(row);
        if (!encrypted) throw new SecretCiphertextDeleted(binding);
        const plaintext = decryptSecret(keyring, encrypted, binding);
        await trx
          .updateTable('client_secret')
          .set({ shown_at: new Date().toISOString() })
          .where('service_id', '=', serviceId)
          .where('secret_version', '=', secretVersion)
          .execute();
        return plaintext;
      });
    },

    async isShown(serviceId, secretVersion) {
      const row = await db
        .selectFrom('client_secret')
        .select('shown_at')
        .where('service_id', '=', serviceId)
        .where('secret_version', '=', secretVersion)
        .executeTakeFirst();
      if (!row) throw new SecretNotFound({ serviceId, secretVersion });
      return row.shown_at !== null;
    },

    async deleteIfDone(serviceId, secretVersion) {
      const row = await db
        .selectFrom('client_secret')
        .select(['shown_at', 'ciphertext'])
        .where('service_id', '=', serviceId)
        .where('secret_version', '=', secretVersion)
        .executeTakeFirst();
      if (!row) throw new SecretNotFound({ serviceId, secretVersion });
      if (row.ciphertext === null) return true;
      if (row.shown_at === null) return false;
      await db
        .updateTable('client_secret')
        .set(clearedCiphertext())
        .where('service_id', '=', serviceId)
        .where('secret_version', '=', secretVersion)
        .where('shown_at', 'is not', null)
        .execute();
      return true;
    },

    async deleteVersion(serviceId, secretVersion) {
      await db
        .updateTable('client_secret')
        .set(clearedCiphertext())
        .where('service_id', '=', serviceId)
        .where('secret_version', '=', secretVersion)
        .where('ciphertext', 'is not', null)
        .execute();
    },

    async deleteAll(serviceId) {
      await db
        .updateTable('client_secret')
        .set(clearedCiphertext())
        .where('service_id', '=', serviceId)
        .where('ciphertext', 'is not', null)
        .execute();
    },
  };
}

function clearedCiphertext() {
  return {
    key_id: null,
    iv: null,
    ciphertext: null,
    auth_tag: null,
    ciphertext_deleted_at: new Date().toISOString(),
  };
}
