import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The repository explains itself: every comment and every markdown file cites only files that are
 * in the repository (or public URLs). Design notes kept outside the repository used to be cited by
 * name; a citation of one of those names must now be a path to a file here (docs/…), and a path to a
 * repository file must resolve. Relative markdown links must resolve too. No network, no Temporal.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Names of documents that live outside the repository; cited bare, they point nowhere. Assembled
 * from parts so that this file, which must mention them, does not itself read as citing them.
 */
const ARCH = ['ARCHITECTURE', 'md'].join('.');
const CONTRACT = ['aidbox', 'contract'].join('-');
const RULES = ['smart', 'rules'].join('-');
const API = ['api', 'md'].join('.');
const STYLE = ['temporal', 'style'].join('-');
const PERF = ['perf', 'reliability'].join('-');
const OUTSIDE_NAMES = [ARCH, CONTRACT, RULES, API, STYLE, PERF];

const CODE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const HASH_COMMENT_EXTENSIONS = new Set(['.sh', '.yml', '.yaml']);
const PATH_EXTENSIONS = 'ts|mts|cts|js|mjs|cjs|md|json|ya?ml|sh|sql|txt';

export interface BadCitation {
  file: string;
  line: number;
  citation: string;
  reason: string;
}

interface Piece {
  text: string;
  offset: number;
}

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '');
}

const topLevelDirectories = new Set(
  trackedFiles()
    .filter((f) => f.includes('/'))
    .map((f) => f.slice(0, f.indexOf('/'))),
);

function kindOf(file: string, text: string): 'code' | 'hash' | 'markdown' | undefined {
  const extension = path.extname(file);
  if (extension === '.md') return 'markdown';
  if (CODE_EXTENSIONS.has(extension)) return 'code';
  if (HASH_COMMENT_EXTENSIONS.has(extension)) return 'hash';
  const base = path.basename(file);
  if (base === 'Dockerfile' || base.endsWith('.env.example') || base === '.env.example') return 'hash';
  if (extension === '' && /^#!.*\bsh\b/.test(text)) return 'hash';
  return undefined;
}

/** Every comment of a TypeScript or JavaScript file, found by the TypeScript parser (strings and regexes are not comments). */
function codeComments(file: string, text: string): Piece[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const seen = new Map<number, Piece>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      if (!seen.has(range.pos))
        seen.set(range.pos, { text: text.slice(range.pos, range.end), offset: range.pos });
    }
  };
  const visit = (node: ts.Node) => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(source);
    if (children.length === 0) {
      collect(ts.getTrailingCommentRanges(text, node.pos));
      collect(ts.getLeadingCommentRanges(text, node.pos));
      return;
    }
    for (const child of children) visit(child);
  };
  visit(source);
  collect(ts.getLeadingCommentRanges(text, source.endOfFileToken.pos));
  return [...seen.values()];
}

/** `#` comments of shell, YAML, Dockerfile and env files: from a `#` at the start or after a space. */
function hashComments(text: string): Piece[] {
  const pieces: Piece[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const match = /(^|\s)#/.exec(line);
    if (match) {
      const start = match.index + match[1]!.length;
      pieces.push({ text: line.slice(start), offset: offset + start });
    }
    offset += line.length + 1;
  }
  return pieces;
}

/** Resolves a cited path from the repository root or the citing file's folder; undefined unless it is inside the repository and exists. */
function resolveInRepository(citingFile: string, cited: string): string | undefined {
  const bases = [ROOT, path.join(ROOT, path.dirname(citingFile))];
  for (const base of bases) {
    const absolute = path.resolve(base, cited);
    const inside = absolute === ROOT || absolute.startsWith(ROOT + path.sep);
    if (inside && existsSync(absolute)) return absolute;
  }
  return undefined;
}

/** Does a path look like it names a file of this repository (so it must resolve)? */
function namesRepositoryFile(citingFile: string, cited: string): boolean {
  if (cited.startsWith('./') || cited.startsWith('../')) return true;
  const first = cited.slice(0, cited.indexOf('/'));
  if (topLevelDirectories.has(first)) return true;
  return existsSync(path.join(ROOT, path.dirname(citingFile), first));
}

/** Blanks out URLs (public references are fine) without moving offsets. */
function withoutUrls(text: string): string {
  return text.replace(/\b(?:https?|ftp|file):\/\/[^\s)>\]'"`]+/g, (url) => ' '.repeat(url.length));
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const PATH_CHARACTER = /[\w@.\-/]/;

function pathAround(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from > 0 && PATH_CHARACTER.test(text[from - 1]!)) from--;
  while (to < text.length && PATH_CHARACTER.test(text[to]!)) to++;
  return text.slice(from, to).replace(/[.\-/]+$/, '');
}

const outsideNamePattern = new RegExp(
  OUTSIDE_NAMES.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'gi',
);
const filePathPattern = new RegExp(
  `(?<![\\w@.\\-/])(?:\\.{1,2}/)*[\\w@.-]+(?:/[\\w@.-]+)+\\.(?:${PATH_EXTENSIONS})(?![\\w-])`,
  'g',
);
const markdownLinkPattern = /\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

function checkPiece(file: string, whole: string, piece: Piece, markdown: boolean): BadCitation[] {
  const found: BadCitation[] = [];
  const text = withoutUrls(piece.text);
  const report = (index: number, citation: string, reason: string) =>
    found.push({ file, line: lineAt(whole, piece.offset + index), citation, reason });

  for (const match of text.matchAll(outsideNamePattern)) {
    const cited = pathAround(text, match.index, match.index + match[0].length);
    if (!resolveInRepository(file, cited)) {
      report(
        match.index,
        cited,
        'names a document outside the repository: cite docs/… (a file here) instead',
      );
    }
  }
  for (const match of text.matchAll(filePathPattern)) {
    const cited = match[0];
    if (namesRepositoryFile(file, cited) && !resolveInRepository(file, cited)) {
      report(match.index, cited, 'names a repository file that does not exist');
    }
  }
  if (markdown) {
    for (const match of piece.text.matchAll(markdownLinkPattern)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      const cited = decodeURI(target.replace(/[#?].*$/, ''));
      if (cited === '') continue;
      const absolute = path.resolve(ROOT, path.dirname(file), cited);
      const inside = absolute === ROOT || absolute.startsWith(ROOT + path.sep);
      if (!inside || !existsSync(absolute)) {
        report(match.index, target, 'relative link does not resolve to a file in the repository');
      }
    }
  }
  return found;
}

/** Every bad citation in one file's comments (code, shell, YAML) or text (markdown). */
export function findBadCitations(file: string, text: string): BadCitation[] {
  const kind = kindOf(file, text);
  if (kind === undefined) return [];
  if (kind === 'markdown') return unique(checkPiece(file, text, { text, offset: 0 }, true));
  const pieces = kind === 'code' ? codeComments(file, text) : hashComments(text);
  return unique(pieces.flatMap((piece) => checkPiece(file, text, piece, false)));
}

/** One report per citation and line, whichever check found it first. */
function unique(citations: BadCitation[]): BadCitation[] {
  const seen = new Set<string>();
  return citations.filter((c) => {
    const key = `${c.line}\0${c.citation}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

describe('citations', () => {
  it('every comment and markdown file cites only files in the repository', () => {
    const bad = trackedFiles()
      .filter((file) => existsSync(path.join(ROOT, file)))
      .flatMap((file) => findBadCitations(file, readFileSync(path.join(ROOT, file), 'utf8')));
    expect(bad.map((b) => `${b.file}:${b.line}: ${b.citation} (${b.reason})`)).toEqual([]);
  });

  it('negative control: bare outside names, missing repository files and dead links are caught', () => {
    const code = [
      `const label = '${RULES}'; // see ${RULES} §3.2 and ${ARCH}, Secrets`,
      '/**',
      ` * Why: platform/text-safety.ts; ${CONTRACT} section 4; ${PERF} §5.1.`,
      ' */',
      `export const pattern = /${API}/;`,
    ].join('\n');
    expect(findBadCitations('api/fabricated.ts', code).map((b) => [b.line, b.citation])).toEqual([
      [1, RULES],
      [1, ARCH],
      [3, CONTRACT],
      [3, PERF],
      [3, 'platform/text-safety.ts'],
    ]);

    const markdown = [
      `After [the contract](../../shared/design/${CONTRACT}.md) and ${STYLE} 1.3.`,
      'See [nothing](missing.md) and `docs/no-such-page.md`.',
    ].join('\n');
    expect(findBadCitations('docs/fabricated.md', markdown).map((b) => [b.line, b.citation])).toEqual([
      [1, `../../shared/design/${CONTRACT}.md`],
      [1, STYLE],
      [2, 'docs/no-such-page.md'],
      [2, 'missing.md'],
    ]);

    const yaml = `# Same rule as every dev server (${ARCH}):\nkey: value # ${API}\n`;
    expect(findBadCitations('deploy/fabricated.yaml', yaml).map((b) => b.citation)).toEqual([ARCH, API]);
  });

  it('positive control: citations of files here and public URLs pass', () => {
    const code = [
      `// docs/${RULES}.md D3; docs/architecture.md, Secrets; docs/${CONTRACT}.md §2.4`,
      '// https://hl7.org/fhir/smart-app-launch/backend-services.html and platform/text-rules.ts',
      `const example = '${ARCH} is a string, not a comment';`,
    ].join('\n');
    expect(findBadCitations('api/fabricated.ts', code)).toEqual([]);
    const markdown = `See [rules](${RULES}.md#32-the-jwks-document-d-rules) and [records](decisions/README.md).`;
    expect(findBadCitations('docs/fabricated.md', markdown)).toEqual([]);
  });
});
