/** Order statistics over a sample (nearest-rank percentiles: no interpolation to flatter small samples). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]) => percentile(values, 50);
export const p99 = (values: number[]) => percentile(values, 99);

export interface Summary {
  n: number;
  median: number;
  p99: number;
  mean: number;
}

export function summarize(values: number[]): Summary {
  const mean = values.reduce((a, b) => a + b, 0) / (values.length || 1);
  return { n: values.length, median: median(values), p99: p99(values), mean };
}

/** Milliseconds since `start` (a performance.now() reading), rounded to 0.01. */
export const since = (start: number) => Math.round((performance.now() - start) * 100) / 100;

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `task(i)` for i < total with at most `concurrency` in flight (a closed loop: each caller starts its next when one ends). */
export async function closedLoop(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const caller = async () => {
    while (next < total) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, caller));
}
