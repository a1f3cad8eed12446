/**
 * Aidbox's internal resource format, the one AccessPolicies see in `client`/`user`
 * (docs/aidbox-contract.md §2.1; Aidbox docs `aidbox-and-fhir-formats.md`):
 * - a choice element `valueReference: {...}` becomes `value: { Reference: {...} }`;
 * - a reference `{reference: "Organization/org-a"}` becomes `{resourceType: "Organization", id: "org-a"}`.
 * So an OrgBAC tenant binding is matched as `meta.extension[].value.Reference.id`.
 */
const CHOICE = /^value([A-Z][A-Za-z]*)$/;
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

export function toInternalFormat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toInternalFormat);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const choice = CHOICE.exec(key);
    const reference =
      key === 'reference' && typeof child === 'string' ? RELATIVE_REFERENCE.exec(child) : null;
    if (choice?.[1]) out.value = { [choice[1]]: toInternalFormat(child) };
    else if (reference) {
      out.resourceType = reference[1];
      out.id = reference[2];
    } else out[key] = toInternalFormat(child);
  }
  return out;
}
