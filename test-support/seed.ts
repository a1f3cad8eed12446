/**
 * Seeds for random generators (fast-check): fixed, so CI runs are reproducible, unless `SOAK=1`
 * asks for a fresh one. Either way the seed is printed, so any failure can be replayed with
 * `SEED=<n>`.
 */
export function propertySeed(name: string, fixed: number): number {
  const forced = process.env.SEED ? Number(process.env.SEED) : undefined;
  const seed =
    forced !== undefined && Number.isInteger(forced)
      ? forced
      : process.env.SOAK === '1'
        ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
        : fixed;
  console.log(`[seed] ${name}: ${seed}${process.env.SOAK === '1' ? ' (SOAK)' : ''}`);
  return seed;
}
