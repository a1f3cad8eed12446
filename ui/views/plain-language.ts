import { FHIR_R4_RESOURCE_TYPES } from '../../scopes/resource-types.js';

/**
 * What people read instead of what the code says. The API's field errors come partly from its
 * schema library ("Too small: expected string to have >=1 characters") and its findings carry the
 * rule ids of docs/smart-rules.md (D7, A4): both are for engineers. Pages show sentences.
 */

/** Rule ids as docs/smart-rules.md writes them: D7, A12, U3, S10, K-S1 (also inside parentheses or before a colon). */
const RULE_ID = String.raw`(?:K-S\d{1,2}|[ADUS]\d{1,2})`;
const RULE_PATTERNS = [
  new RegExp(String.raw`\s*\(\s*(?:rule\s+)?${RULE_ID}(?:\s*[,/–-]\s*${RULE_ID})*\s*\)`, 'g'),
  new RegExp(String.raw`\s*\[\s*${RULE_ID}\s*\]`, 'g'),
  new RegExp(String.raw`(?:docs/smart-rules\.md\s+)?\b${RULE_ID}\b\s*:\s*`, 'g'),
  new RegExp(String.raw`\s*docs/smart-rules\.md(?:\s+${RULE_ID})?`, 'g'),
];

/** Drops rule ids and the library's vocabulary from a sentence meant for a person. */
export function withoutRuleIds(text: string): string {
  let out = text;
  for (const pattern of RULE_PATTERNS) out = out.replace(pattern, '');
  return sentence(out.replace(/\s{2,}/g, ' ').trim());
}

/** First letter up, exactly one full stop at the end ("… (UI test).." becomes "… (UI test)."). */
export function sentence(text: string): string {
  const trimmed = text.trim().replace(/[.\s]+$/, '');
  if (!trimmed) return '';
  const ends = /[!?]$/.test(trimmed) ? '' : '.';
  return trimmed[0]!.toUpperCase() + trimmed.slice(1) + ends;
}

/** Phrases of a validation library that must never reach a person (tests assert their absence). */
export const LIBRARY_PHRASES = [
  /too small/i,
  /too big/i,
  /invalid input/i,
  /\bexpected\b/i,
  />=|<=/,
  /invalid option/i,
  /invalid string/i,
  /invalid_/i,
  /received undefined/i,
];

const looksLikeLibrary = (message: string) => LIBRARY_PHRASES.some((p) => p.test(message));

/** What each form field is called on the page. */
export const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  contactEmail: 'Contact e-mail',
  authType: 'Authentication method',
  jwksUri: 'JWKS URI',
  version: 'Scope version',
  rules: 'System scopes',
  organizationId: 'Organization',
  reason: 'Reason',
  clientAssertion: 'Client assertion',
  activateAt: 'Go live at',
};

function labelOf(key: string): string {
  const rule = /^rule-(\d+)-(resource|operations)$/.exec(key);
  if (rule)
    return rule[2] === 'resource'
      ? `Scope rule ${Number(rule[1]) + 1}: resource type`
      : `Scope rule ${Number(rule[1]) + 1}: operations`;
  return FIELD_LABELS[key] ?? 'This field';
}

/**
 * One API field error as a sentence for the field `key` of the form. Messages the API wrote for
 * people (the scope builder's, the text rules') are kept, minus rule ids; the schema library's
 * are replaced by what the person should do.
 */
export function fieldMessage(key: string, message: string): string {
  const label = labelOf(key);
  const max = /<=\s*(\d+)/.exec(message)?.[1];
  if (/too big/i.test(message) || (max && /too big|characters|items/i.test(message)))
    return `${label} is too long${max ? `: at most ${max} characters` : ''}.`;
  if (key === 'contactEmail' && (/e-?mail/i.test(message) || looksLikeLibrary(message)))
    return 'Enter the contact e-mail as an address, such as ops@example.com.';
  if (key === 'jwksUri' && looksLikeLibrary(message))
    return 'Enter the JWKS URI, an https:// address where your public keys are published.';
  if (key === 'organizationId' && looksLikeLibrary(message))
    return 'Choose the Organization whose data the service may access.';
  if (key === 'authType' && looksLikeLibrary(message)) return 'Choose an authentication method.';
  if (key === 'version' && looksLikeLibrary(message)) return 'Choose scope version v1 or v2.';
  if (key.endsWith('-operations') && looksLikeLibrary(message)) return 'Choose at least one operation.';
  if (key.endsWith('-resource') && looksLikeLibrary(message))
    return 'Choose a FHIR resource type, or * for all of them.';
  if (key === 'rules' && looksLikeLibrary(message)) return 'Add at least one scope rule.';
  if (/too small|>=\s*1\b|required|received undefined|must not be blank|is blank/i.test(message))
    return key === 'name'
      ? 'Enter a name for the service.'
      : key === 'reason'
        ? 'Enter a reason.'
        : `Enter ${label.toLowerCase()}.`;
  if (looksLikeLibrary(message))
    return `Check ${label.toLowerCase()}: it is not in a form the portal accepts.`;
  const plain = withoutRuleIds(message);
  // The API names fields by their JSON name ("contactEmail contains …"): say it as the page does.
  return plain.replace(/^(name|description|contactEmail|jwksUri|reason)\b/i, label);
}

/** Edit distance, for "did you mean" (small inputs only: resource type names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The FHIR R4 resource type a mistyped name most likely meant ("patient", "Patinet" → Patient). */
export function didYouMean(input: string): string | null {
  const wanted = input.trim();
  if (!wanted || wanted === '*' || (FHIR_R4_RESOURCE_TYPES as readonly string[]).includes(wanted))
    return null;
  const lower = wanted.toLowerCase();
  const exact = FHIR_R4_RESOURCE_TYPES.find((t) => t.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | null = null;
  let bestScore = Infinity;
  for (const type of FHIR_R4_RESOURCE_TYPES) {
    const score = distance(lower, type.toLowerCase());
    if (score < bestScore) [best, bestScore] = [type, score];
  }
  return best && bestScore <= Math.max(2, Math.floor(wanted.length / 4)) ? best : null;
}
