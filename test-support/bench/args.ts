import { parseArgs } from 'node:util';

/** Common flags: `--quick` (smoke run, smaller numbers), `--count N` (bench-specific size). */
export function benchArgs(): { quick: boolean; count: number | undefined } {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, count: { type: 'string' } },
    allowPositionals: false,
  });
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && (!Number.isInteger(count) || count <= 0))
    throw new Error('--count must be a positive integer');
  return { quick: values.quick ?? false, count };
}
