import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type CryptoKey, type JWK } from 'jose';
import {
  COMMAND_TOKEN_ALG,
  COMMAND_TOKEN_FIELD,
  COMMAND_TOKEN_TYP,
  MAX_COMMAND_TOKEN_LIFETIME_SECONDS,
  argumentDigest,
  withoutToken,
  type CommandActor,
} from '../../platform/command-tokens.js';

/**
 * Signs the commands the API sends to a service's workflow (docs/decisions/signed-commands.md).
 * The token names the workflow, the update (or `start`), the authenticated actor and the digest of
 * the argument; it lives `lifetimeSeconds` (at most five minutes) and has a unique `jti`.
 */
export interface CommandSigner {
  readonly kid: string;
  sign(command: {
    workflowId: string;
    name: string;
    actor: CommandActor;
    argument: unknown;
  }): Promise<string>;
  /** The argument with its `commandToken` set (any token it carried replaced). */
  signArgument<A>(command: {
    workflowId: string;
    name: string;
    actor: CommandActor;
    argument: A;
  }): Promise<A>;
}

export interface CommandSignerOptions {
  /** Default (and maximum) five minutes; tests shorten it. */
  lifetimeSeconds?: number;
  /** Injectable clock: tests sign tokens that were issued (and expired) in the past. */
  now?: () => Date;
}

export function createCommandSigner(
  signingKey: JWK & { kid: string },
  options: CommandSignerOptions = {},
): CommandSigner {
  const lifetime = options.lifetimeSeconds ?? MAX_COMMAND_TOKEN_LIFETIME_SECONDS;
  if (!(lifetime > 0 && lifetime <= MAX_COMMAND_TOKEN_LIFETIME_SECONDS)) {
    throw new Error(
      `a command token lives 1 to ${MAX_COMMAND_TOKEN_LIFETIME_SECONDS} seconds, not ${lifetime}`,
    );
  }
  let key: Promise<CryptoKey> | undefined;
  const keyOf = () => (key ??= importJWK(signingKey, COMMAND_TOKEN_ALG) as Promise<CryptoKey>);
  const now = options.now ?? (() => new Date());
  const sign: CommandSigner['sign'] = async ({ workflowId, name, actor, argument }) => {
    const iat = Math.floor(now().getTime() / 1000);
    return new SignJWT({
      wf: workflowId,
      cmd: name,
      act: { sub: actor.sub, roles: [...actor.roles] },
      dig: argumentDigest(argument),
    })
      .setProtectedHeader({ alg: COMMAND_TOKEN_ALG, kid: signingKey.kid, typ: COMMAND_TOKEN_TYP })
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(await keyOf());
  };
  return {
    kid: signingKey.kid,
    sign,
    async signArgument<A>({
      workflowId,
      name,
      actor,
      argument,
    }: {
      workflowId: string;
      name: string;
      actor: CommandActor;
      argument: A;
    }): Promise<A> {
      const bare = withoutToken(argument) as A;
      const token = await sign({ workflowId, name, actor, argument: bare });
      return { ...(bare as object), [COMMAND_TOKEN_FIELD]: token } as A;
    },
  };
}
