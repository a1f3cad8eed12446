/** The caller, as established from a verified bearer token. */
export interface Principal {
  /** OIDC `sub`: the owner ID of the services this caller registers. */
  sub: string;
  roles: string[];
  /** The `email` claim, when the token has one: a new service's owner hears about it there. */
  email?: string;
}

export const isAdmin = (p: Principal) => p.roles.includes('admin');
