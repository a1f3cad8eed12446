import { isRecord } from './json-object.js';
import { describeKey, type JwksRuleId } from './jwks-key-checks.js';
import { checkKey } from './jwks-key.js';
import type { DocumentFinding, KeyReport } from './jwks-report.js';

/**
 * Judges a JWKS document key by key against docs/smart-rules.md §3.2 (D1–D12, D14; D13's sandbox/production
 * clause does not apply to this product and "shared with another client" needs other clients' sets,
 * so it is left to the reviewer tooling). Pure apart from the thumbprint digest: no I/O. The set's
 * own rules (D1, D2, D4, D11) are here; each key is judged by credentials/jwks-key.ts.
 */

/** SMART requires servers to support at least one of RS384/ES384 (SP1 req 308/310); Aidbox verifies these two. */
export const DEFAULT_ALLOWED_ALGORITHMS = ['RS384', 'ES384'] as const;
/** docs/architecture.md, JWKS fetching: 20 keys at most (docs/smart-rules.md D11). */
export const DEFAULT_MAX_KEYS = 20;

export interface JwksValidationOptions {
  allowedAlgorithms?: readonly string[];
  /** kid → RFC 7638 thumbprint from the last accepted check (D12). */
  previousThumbprints?: Readonly<Record<string, string>>;
  maxKeys?: number;
  /** Negative-control tests only: these rules are not evaluated. Production never passes it. */
  disabledRules?: readonly JwksRuleId[];
}

export interface JwksValidation {
  valid: boolean;
  findings: DocumentFinding[];
  keys: KeyReport[];
  thumbprints: Record<string, string>;
}

/** D4 (SP1: kid "SHALL be unique within the client's JWK Set"; key resolution needs exactly one match). */
function checkUniqueKids(keys: KeyReport[], disabled: ReadonlySet<string>): void {
  if (disabled.has('D4')) return;
  for (const key of keys) {
    if (key.kid === null) continue;
    const others = keys.filter((k) => k !== key && k.kid === key.kid);
    const label = describeKey(key.index, key.kid);
    if (others.some((k) => k.kty === key.kty)) {
      key.checks.push({
        rule: 'D4',
        passed: false,
        severity: 'error',
        message: `${label} appears ${others.length + 1} times with kty '${key.kty}'; each kid must be unique in the set, or the token endpoint cannot tell which key signed`,
      });
      key.status = 'rejected';
      key.usableAlgorithms = [];
    } else if (others.length > 0) {
      key.checks.push({
        rule: 'D4',
        passed: false,
        severity: 'warning',
        message: `${label} is also used by a key of another type (${others.map((k) => k.kty).join(', ')}); SMART asks for kids unique within the set`,
      });
    } else {
      key.checks.push({ rule: 'D4', passed: true, severity: 'error', message: `${label} has a unique kid` });
    }
  }
}

export async function validateJwks(
  document: unknown,
  options: JwksValidationOptions = {},
): Promise<JwksValidation> {
  const disabled = new Set<string>(options.disabledRules ?? []);
  const resolved = {
    allowedAlgorithms: options.allowedAlgorithms ?? DEFAULT_ALLOWED_ALGORITHMS,
    previousThumbprints: options.previousThumbprints ?? {},
    maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS,
    disabled,
  };
  const findings: DocumentFinding[] = [];

  // D1 (RFC 7517 §5): an object with a non-empty keys array; unknown top-level members are ignored.
  if (!isRecord(document) || !Array.isArray(document.keys)) {
    findings.push({
      rule: 'D1',
      severity: 'error',
      message: 'the document is not a JWK Set: it must be a JSON object with a "keys" array (RFC 7517 §5)',
    });
    return { valid: false, findings, keys: [], thumbprints: {} };
  }
  const rawKeys: unknown[] = document.keys;
  if (rawKeys.length === 0) {
    findings.push({
      rule: 'D1',
      severity: 'error',
      message: 'the "keys" array is empty: publish at least one public key',
    });
    return { valid: false, findings, keys: [], thumbprints: {} };
  }

  // D11: cap the work and the attack surface; keys past the cap are not judged.
  let judged = rawKeys;
  if (!disabled.has('D11') && rawKeys.length > resolved.maxKeys) {
    findings.push({
      rule: 'D11',
      severity: 'error',
      message: `the set has ${rawKeys.length} keys; at most ${resolved.maxKeys} are accepted (publish only the keys in use)`,
    });
    judged = rawKeys.slice(0, resolved.maxKeys);
  }

  const keys = await Promise.all(judged.map((raw, index) => checkKey(raw, index, resolved)));
  checkUniqueKids(keys, disabled);

  // D2 (SP1 req 308/310; SP4): at least one key verifies RS384 or ES384.
  const usable = keys.filter((k) => k.status === 'usable');
  if (!disabled.has('D2') && usable.length === 0) {
    findings.push({
      rule: 'D2',
      severity: 'error',
      message: `no key in the set can verify an ${resolved.allowedAlgorithms.join(' or ')} client assertion: publish an RSA key of 2048 bits or more (RS384) or an EC P-384 key (ES384)`,
    });
  }

  const thumbprints: Record<string, string> = {};
  for (const key of keys) {
    if (key.status !== 'rejected' && key.kid !== null && key.thumbprint !== null)
      thumbprints[key.kid] = key.thumbprint;
  }
  const valid =
    !findings.some((f) => f.severity === 'error') &&
    keys.every((k) => k.status !== 'rejected') &&
    (usable.length > 0 || disabled.has('D2'));
  return { valid, findings, keys, thumbprints };
}
