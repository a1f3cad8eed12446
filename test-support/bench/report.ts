import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RESULTS = path.resolve(import.meta.dirname, '../../bench-results');

export type Row = Record<string, string | number>;

/** Prints rows as an aligned text table (also valid Markdown). */
export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? String(v) : (v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

export interface Target {
  name: string;
  met: boolean;
  /** The measured value and why it is what it is. */
  detail: string;
}

export function printTargets(targets: Target[]): void {
  printTable(
    'Targets',
    targets.map((t) => ({ target: t.name, result: t.met ? 'MET' : 'MISSED', detail: t.detail })),
  );
}

/** Writes the run's results as JSON under bench-results/ (gitignored); returns the file. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadavg: os.loadavg(),
  };
  writeFileSync(
    file,
    JSON.stringify({ bench: name, at: new Date().toISOString(), machine, results }, null, 2) + '\n',
  );
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  return file;
}
