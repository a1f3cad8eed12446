/**
 * OAuth errors of `/auth/token`: `{error, error_description}` (docs/aidbox-contract.md §4). Section
 * 4's table gives 400 for invalid_client too; docs/smart-rules.md A9 would prefer 401. The stand-in answers
 * as Aidbox is documented to (400).
 */
export class TokenError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error:
      'invalid_request' | 'invalid_client' | 'invalid_scope' | 'invalid_grant' | 'unsupported_grant_type',
    readonly description: string,
  ) {
    super(description);
  }
}
