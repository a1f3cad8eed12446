import { z } from 'zod';

/** Parsers of environment-variable values, shared by every process's configuration schema. */

/** `true/false`, `1/0`, `yes/no`; anything else is refused with the variable's name. */
export const envBool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const envPort = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
