import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { derivePolicies } from '../../scopes/derive.js';

/**
 * Seeds `count` services straight into the read model: rows shaped like the projection activity
 * writes them (a full ServiceState in `state`; `summary` is generated from it), 1,000 owners, a
 * realistic status mix (40 % active, 25 % under review, 25 % draft, 10 % rejected), one minute
 * apart. Services under review or active carry their submission with the production policies the
 * derivation makes for their scopes, as the workflow's state does.
 */
export async function seedServices(db: Db, count: number): Promise<number> {
  const started = performance.now();
  const scopes = ['system/Patient.rs', 'system/Observation.rs', 'system/Coverage.rs'];
  const policies = derivePolicies({ clientId: 'bs-seed', scopes, organizationId: null });
  // In batches: one statement for all of them passes the pool's statement timeout (db/database.ts).
  for (let from = 1; from <= count; from += 10_000) {
    const to = Math.min(count, from + 9_999);
    await sql`
    insert into backend_services (id, owner_id, organization_id, status, auth_method, name, revision,
      submitted_at, created_at, updated_at, projection_version, state)
    select id, owner_id, organization_id, status, 'client_secret', name, 1,
      case when status = 'under_review' then created_at + interval '1 hour' end, created_at, created_at, 3,
      jsonb_build_object(
        'serviceId', id, 'ownerId', owner_id, 'status', status, 'revision', 1, 'rejection', null, 'approval', null,
        'registration', jsonb_build_object('name', name, 'description', 'Nightly export for the care-gap report',
          'contactEmail', 'ops@acme.example', 'authMethod', jsonb_build_object('type', 'client_secret'),
          'scopes', jsonb_build_object('version', 'v2',
            'rules', jsonb_build_array(jsonb_build_object('resource', 'Patient', 'operations', jsonb_build_array('read', 'search'))),
            'strings', jsonb_build_array('system/Patient.rs')),
          'organizationId', organization_id),
        'credentials', jsonb_build_object('state', 'valid', 'checkedAt', created_at, 'jwksReport', null, 'acceptedThumbprints', '{}'::jsonb,
          'secret', jsonb_build_object('version', 1, 'fingerprint', substr(md5(id), 1, 16), 'createdAt', created_at)),
        'sandbox', jsonb_build_object('revision', 1, 'state', 'ready', 'lastError', null),
        'productionProvisioned', status = 'active', 'cleanup', null,
        'submission', case when status in ('active', 'under_review') then jsonb_build_object(
          'revision', 1, 'submittedAt', created_at + interval '1 hour', 'submittedBy', owner_id,
          'registration', jsonb_build_object('name', name, 'scopes', jsonb_build_object('strings', ${JSON.stringify(scopes)}::jsonb)),
          'productionPolicies', ${JSON.stringify(policies)}::jsonb) end,
        'previousSubmission', null,
        'createdAt', created_at, 'updatedAt', created_at, 'projectionVersion', 3)
    from (
      select 'bs-r' || i as id, 'owner-' || (i % 1000) as owner_id, 'org-payer-' || (i % 20) as organization_id,
        case when i % 20 < 8 then 'active' when i % 20 < 13 then 'under_review' when i % 20 < 18 then 'draft' else 'rejected' end as status,
        'Service ' || i as name, timestamptz '2026-01-01' + (i || ' minutes')::interval as created_at
      from generate_series(${from}::int, ${to}::int) as i
    ) as s`.execute(db);
  }
  await sql`analyze backend_services`.execute(db);
  return performance.now() - started;
}
