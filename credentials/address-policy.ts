import ipaddr from 'ipaddr.js';

/**
 * Which addresses the JWKS fetcher may connect to (docs/architecture.md, JWKS fetching; docs/smart-rules.md U3;
 * JWKS fetching step 2). Only globally routable unicast passes: the same allow-only-unicast
 * stance as request-filtering-agent, so a range nobody thought of is refused rather than allowed.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string; reason: string };

export type AddressPolicy = (address: string) => AddressVerdict;

/** Cloud metadata services (AWS/GCP/Azure IPv4, AWS IPv6): named explicitly so the reason says so. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2:0:0:0:0:0:254']);

const RANGE_REASONS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private network address (RFC 1918)',
  reserved: 'a reserved or documentation address',
  uniqueLocal: 'a unique-local IPv6 address (fc00::/7)',
  ipv4Mapped: 'an IPv4-mapped IPv6 address',
  rfc6145: 'an IPv4-translated IPv6 address',
  rfc6052: 'a NAT64 IPv6 address',
  '6to4': 'a 6to4 IPv6 address',
  teredo: 'a Teredo IPv6 address',
  benchmarking: 'a benchmarking address',
  amt: 'an AMT relay address',
  as112: 'an AS112 address',
  deprecated: 'a deprecated address',
  orchid2: 'an ORCHIDv2 address',
  droneRemoteIdProtocolEntityTags: 'a drone remote ID address',
};

export const publicUnicastOnly: AddressPolicy = (address) => {
  const literal = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(literal)) return { allowed: false, range: 'invalid', reason: 'not an IP address' };
  const parsed = ipaddr.parse(literal);
  const normalized = parsed.toNormalizedString(); // one spelling per address, e.g. for fd00:ec2::254
  if (METADATA_ADDRESSES.has(normalized)) {
    return { allowed: false, range: 'metadata', reason: 'a cloud metadata service address' };
  }
  const range = parsed.range();
  if (range === 'unicast') return { allowed: true };
  return {
    allowed: false,
    range,
    reason: RANGE_REASONS[range] ?? `an address in the special range '${range}'`,
  };
};

/** The one loopback destination development mode allows, for the host name `localhost` only. */
export const DEVELOPMENT_LOCALHOST_ADDRESS = '127.0.0.1';
