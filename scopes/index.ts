/** Scopes: the registration builder, the scope-string parser, risk flags and the policy derivation. */
export * from './resource-types.js';
export * from './permissions.js';
export * from './parse.js';
export * from './build.js';
export * from './risk.js';
export * from './derive.js';
export { canonicalJson, sha256OfCanonicalJson } from './canonical-json.js';
