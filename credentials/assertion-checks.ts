/**
 * The vocabulary of the assertion checker (credentials/assertion-checker.ts): one check per header
 * member, claim or step of key resolution, each with the docs/smart-rules.md rule it applies.
 */

export type AssertionCheckId =
  | 'client'
  | 'format'
  | 'alg'
  | 'kid'
  | 'typ'
  | 'jku'
  | 'iss'
  | 'sub'
  | 'aud'
  | 'exp'
  | 'jti'
  | 'key'
  | 'signature';

export interface AssertionCheck {
  id: AssertionCheckId;
  /** Rule id of docs/smart-rules.md. */
  rule: string;
  /** 'skipped' when an earlier failure makes the check meaningless (e.g. no key → no signature check). */
  status: 'passed' | 'failed' | 'skipped';
  expected: string;
  found: string;
  message: string;
}

export type Outcome = Omit<AssertionCheck, 'id' | 'rule'>;

/** Records one check's outcome, in the order the checks are made. */
export type AddCheck = (id: AssertionCheckId, rule: string, outcome: Outcome) => void;

export function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

export function passed(expected: string, found: string, message: string): Outcome {
  return { status: 'passed', expected, found, message };
}
export function failed(expected: string, found: string, message: string): Outcome {
  return { status: 'failed', expected, found, message };
}
export function skipped(expected: string, message: string): Outcome {
  return { status: 'skipped', expected, found: '(not checked)', message };
}
