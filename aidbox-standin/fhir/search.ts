/**
 * The search subset the stand-in answers (docs/aidbox-contract.md §9.1: `_id` and the custom
 * `status` / `created-by` / `client` parameters; plus what listing Organizations and finding a
 * client's policies need). Unknown parameters are ignored (FHIR lenient handling). Paging is
 * Aidbox's `_count` + `_page` (1-based).
 *
 * Parameters beyond stock Aidbox: `link` on AccessPolicy (a custom SearchParameter in a real
 * Aidbox, like Payerbox's `Session.client`); callers should also filter results themselves.
 */
import type { Resource } from '../store/store.js';

type Params = Record<string, string | string[]>;

const CLIENT_STATUS_EXTENSION = 'http://aidbox.app/StructureDefinition/Client/status';
const CLIENT_CREATED_BY_EXTENSION = 'http://aidbox.app/StructureDefinition/Client/created-by';

const values = (param: string | string[] | undefined): string[] =>
  (Array.isArray(param) ? param : param === undefined ? [] : [param]).flatMap((v) => v.split(','));

const referenceMatches = (reference: unknown, wanted: string, type: string): boolean => {
  if (typeof reference !== 'string') return false;
  return reference === wanted || reference === `${type}/${wanted}`;
};

const normalise = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** FHIR string search: starts-with, case- and accent-insensitive, over a name or HumanName. */
function nameMatches(name: unknown, wanted: string): boolean {
  const want = normalise(wanted);
  const texts: string[] = [];
  if (typeof name === 'string') texts.push(name);
  if (Array.isArray(name)) {
    for (const n of name as Array<{ text?: string; family?: string; given?: string[] }>) {
      if (typeof n === 'string') texts.push(n);
      else
        texts.push(
          ...[n?.text, n?.family, ...(n?.given ?? [])].filter((t): t is string => typeof t === 'string'),
        );
    }
  }
  return texts.some(
    (t) =>
      normalise(t)
        .split(/\s+/)
        .some((word) => word.startsWith(want)) || normalise(t).startsWith(want),
  );
}

function extensionValue(resource: Resource, url: string): unknown {
  const extension = ((resource.meta?.extension ?? []) as Array<Record<string, unknown>>).find(
    (e) => e?.url === url,
  );
  return extension?.valueCode ?? (extension?.valueReference as { reference?: string } | undefined)?.reference;
}

function matchesParam(resource: Resource, name: string, wanted: string[]): boolean {
  const type = resource.resourceType;
  const any = (test: (w: string) => boolean) => wanted.some(test);
  switch (name) {
    case '_id':
      return wanted.includes(resource.id);
    case 'name':
      return any((w) => nameMatches(resource.name, w));
    case 'partof':
      return any((w) =>
        referenceMatches((resource.partOf as { reference?: string })?.reference, w, 'Organization'),
      );
    case 'status':
      return any(
        (w) =>
          (type === 'Client' ? extensionValue(resource, CLIENT_STATUS_EXTENSION) : resource.status) === w,
      );
    case 'created-by':
      return any((w) => referenceMatches(extensionValue(resource, CLIENT_CREATED_BY_EXTENSION), w, 'User'));
    case 'client':
      return any((w) =>
        referenceMatches((resource.client as { reference?: string })?.reference, w, 'Client'),
      );
    case 'link':
      return any((w) =>
        ((resource.link ?? []) as Array<{ reference?: string; resourceType?: string; id?: string }>).some(
          (l) => l.reference === w || `${l.resourceType}/${l.id}` === w,
        ),
      );
    case 'patient':
    case 'subject':
      return any((w) =>
        referenceMatches((resource.subject as { reference?: string })?.reference, w, 'Patient'),
      );
    case 'active':
      return any((w) => String(resource.active) === w);
    default:
      return true; // ignored parameter
  }
}

export interface SearchPage {
  total: number;
  page: number;
  count: number;
  resources: Resource[];
}

export function search(resources: Resource[], params: Params): SearchPage {
  const filters = Object.entries(params).filter(([name]) => !name.startsWith('_') || name === '_id');
  const matching = resources
    .filter((r) => filters.every(([name, value]) => matchesParam(r, name, values(value))))
    .sort((a, b) => a.id.localeCompare(b.id));
  const countParam = Number(values(params._count)[0] ?? 100);
  const pageParam = Number(values(params._page)[0] ?? 1);
  const count = Number.isInteger(countParam) && countParam >= 0 ? Math.min(countParam, 1000) : 100;
  const page = Number.isInteger(pageParam) && pageParam >= 1 ? pageParam : 1;
  // A copy of the page only: `resources` are the store's own (ResourceStore.scan).
  const pageOf = matching.slice((page - 1) * count, page * count).map((r) => structuredClone(r));
  return { total: matching.length, page, count, resources: pageOf };
}

/** A searchset Bundle with Aidbox-style paging links. */
export function searchBundle(result: SearchPage, selfUrl: URL, baseUrl: string): Record<string, unknown> {
  const pageUrl = (page: number) => {
    const url = new URL(selfUrl);
    url.searchParams.set('_page', String(page));
    url.searchParams.set('_count', String(result.count));
    return `${baseUrl}${url.pathname}${url.search}`;
  };
  const link = [
    { relation: 'first', url: pageUrl(1) },
    { relation: 'self', url: pageUrl(result.page) },
  ];
  if (result.page * result.count < result.total)
    link.push({ relation: 'next', url: pageUrl(result.page + 1) });
  if (result.page > 1) link.push({ relation: 'previous', url: pageUrl(result.page - 1) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: result.total,
    link,
    entry: result.resources.map((resource) => ({
      fullUrl: `${baseUrl}/fhir/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
