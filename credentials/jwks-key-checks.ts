import type { JWK } from 'jose';
import { escapeForbiddenCharacters } from '../platform/text-rules.js';
import type { KeyReport, RuleCheck, Severity } from './jwks-report.js';

/**
 * What the key-by-key rules of docs/smart-rules.md §3.2 share: the rule ids, the checks recorded
 * for one key, and the facts about it that later rules read.
 */

export type JwksRuleId =
  'D1' | 'D2' | 'D3' | 'D4' | 'D5' | 'D6' | 'D7' | 'D8' | 'D9' | 'D10' | 'D11' | 'D12' | 'D15';

export function describeKey(index: number, kid: unknown): string {
  if (typeof kid !== 'string' || kid === '') return `key #${index + 1} (no kid)`;
  // A hostile document may carry a huge kid: messages quote at most 64 characters of it, escaped.
  const shown = escapeForbiddenCharacters(kid);
  return `key '${shown.length > 64 ? `${shown.slice(0, 61)}...` : shown}'`;
}

export class KeyChecks {
  readonly checks: RuleCheck[] = [];
  constructor(
    readonly label: string,
    private readonly disabled: ReadonlySet<string>,
  ) {}
  enabled(rule: JwksRuleId): boolean {
    return !this.disabled.has(rule);
  }
  pass(rule: JwksRuleId, message: string): void {
    this.checks.push({ rule, passed: true, severity: 'error', message });
  }
  fail(rule: JwksRuleId, message: string, severity: Severity = 'error'): void {
    this.checks.push({ rule, passed: false, severity, message });
  }
  failedErrors(): number {
    return this.checks.filter((c) => !c.passed && c.severity === 'error').length;
  }
}

/** The report's description of the key, and what the rules learn about it on the way. */
export interface KeyFacts extends Pick<KeyReport, 'kid' | 'kty' | 'alg' | 'use' | 'size' | 'curve'> {
  /** The public members, once they are well-formed (for the thumbprint and for importing). */
  publicJwk: JWK | null;
  /** Algorithms this key type could verify, before the allow-list. */
  algorithms: string[];
  ignoredBecause: string | null;
}
