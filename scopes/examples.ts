/**
 * Prints the AccessPolicies derived for three example scope sets (issue 5, closing note).
 * Run: node --import tsx scopes/examples.ts
 * Lists and regexes over the 139 types `*` stands for are shortened in the printout only.
 */
import { buildScopes } from './build.js';
import { derivePolicies } from './derive.js';

const examples = [
  {
    title: 'v2 read+search on Patient and Observation, no OrgBAC',
    clientId: 'bs-acmereporting',
    organizationId: null,
    scopes: {
      version: 'v2',
      rules: [
        { resource: 'Patient', operations: ['read', 'search'] },
        { resource: 'Observation', operations: ['search', 'read'] },
      ],
    },
  },
  {
    title: 'v2 prior authorization (Payerbox PAS: system/Claim.cu system/ClaimResponse.r), OrgBAC org-acme',
    clientId: 'bs-acmepas',
    organizationId: 'org-acme',
    scopes: {
      version: 'v2',
      rules: [
        { resource: 'Claim', operations: ['create', 'update'] },
        { resource: 'ClaimResponse', operations: ['read'] },
      ],
    },
  },
  {
    title: 'v1 Provider Access bulk export (system/*.read) plus a Patient row * already covers, no OrgBAC',
    clientId: 'bs-acmebulk',
    organizationId: null,
    scopes: {
      version: 'v1',
      rules: [
        { resource: '*', operations: ['read', 'search'] },
        { resource: 'Patient', operations: ['read', 'search'] },
      ],
    },
  },
] as const;

function shorten(_key: string, value: unknown): unknown {
  if (Array.isArray(value) && value.length > 12) return [...value.slice(0, 4), `…${value.length - 4} more`];
  if (typeof value === 'string' && value.length > 300)
    return `${value.slice(0, 100)}…(${value.length} chars)`;
  return value;
}

for (const example of examples) {
  const built = buildScopes(example.scopes);
  if (!built.ok) throw new Error(`${example.title}: ${JSON.stringify(built.errors)}`);
  const derived = derivePolicies({
    clientId: example.clientId,
    scopes: built.value.strings,
    organizationId: example.organizationId,
  });
  console.log(`### ${example.title}`);
  const summary = {
    strings: built.value.strings,
    builderNotes: built.value.notes,
    risks: built.value.risks.map((r) => `${r.severity}: ${r.code}`),
    policyHash: derived.policyHash,
    notes: derived.notes,
  };
  console.log(JSON.stringify(summary, shorten, 2));
  // One policy per line: the full JSON of each AccessPolicy (long type lists shortened).
  for (const policy of derived.policies) console.log(JSON.stringify(policy, shorten));
  console.log();
}
