// Plain JavaScript on purpose: it must run (and refuse) on any Node, including the system's old one.
import { fileURLToPath } from 'node:url';

export const MINIMUM_NODE_MAJOR = 24;

/** Returns an error message when `version` is older than Node 24, else undefined. */
export function nodeVersionProblem(version) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0]);
  if (major >= MINIMUM_NODE_MAJOR) return undefined;
  return (
    `This project needs Node.js ${MINIMUM_NODE_MAJOR} or later; this is Node ${version}.\n` +
    'Run it through npm scripts after `npm ci`: the `node` dev dependency puts Node 24 first on PATH for them.\n' +
    'Or install Node 24 LTS yourself.'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
