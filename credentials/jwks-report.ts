/**
 * The JWKS report: what a developer and a reviewer read, what the workflow keeps in its state and
 * what the read model stores. Plain JSON only (strings, numbers, booleans, null, arrays, objects):
 * it goes into Temporal history and a jsonb column unchanged.
 */

export type Severity = 'error' | 'warning';

/** One rule applied to one key, passed or failed, in a sentence a developer understands. */
export interface RuleCheck {
  /** Rule id of docs/smart-rules.md (D3, D5, …) or U-rule for document-level findings. */
  rule: string;
  passed: boolean;
  /** What a failure costs: an error makes the key (and the set) unacceptable, a warning does not. */
  severity: Severity;
  message: string;
}

export type KeyStatus =
  /** Passes every rule and signs at least one allowed client-assertion algorithm. */
  | 'usable'
  /** Breaks no rule but the token endpoint will not use it (key_ops without verify, ES256 only, OKP…). */
  | 'ignored'
  /** Breaks at least one rule: the whole set is refused until it is fixed. */
  | 'rejected';

export interface KeyReport {
  /** Position in the `keys` array, from 0. */
  index: number;
  kid: string | null;
  kty: string | null;
  alg: string | null;
  use: string | null;
  /** RSA modulus length in bits. */
  size: number | null;
  /** EC curve. */
  curve: string | null;
  /** Allowed client-assertion algorithms this key would verify (empty unless status is 'usable'). */
  usableAlgorithms: string[];
  /** RFC 7638 SHA-256 thumbprint (base64url) of the public members, when they are well-formed. */
  thumbprint: string | null;
  status: KeyStatus;
  checks: RuleCheck[];
}

export interface DocumentFinding {
  rule: string;
  severity: Severity;
  message: string;
}

export interface JwksFetchSummary {
  /** The URL finally read (after the one redirect allowed, if any). */
  finalUrl: string;
  status: number;
  contentType: string;
  cacheControl: string | null;
  bytes: number;
  redirected: boolean;
}

export interface JwksReport {
  /** True when no error was found anywhere and at least one key is usable (D2). */
  valid: boolean;
  /** One sentence: the verdict and the first reason. */
  summary: string;
  jwksUri: string | null;
  checkedAt: string;
  fetch: JwksFetchSummary | null;
  findings: DocumentFinding[];
  keys: KeyReport[];
  /**
   * kid → thumbprint of every key that is not rejected: pass it back as `previousThumbprints` on the
   * next check after this report was accepted, so a kid whose material changed is flagged (D12).
   */
  thumbprints: Record<string, string>;
}
