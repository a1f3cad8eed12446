/**
 * Writes the workflow bundle to stdout and exits: run by `bundleWorkflowsInChild()`
 * (worker/workflow-bundle.ts) so that webpack and swc run in a process of their own.
 */
import { bundleWorkflows } from './workflow-bundle.js';

const { code } = await bundleWorkflows();
process.stdout.write(code, () => process.exit(0));
