// Every workflow the worker registers. The bundler starts here (worker/create-worker.ts).
export { platformProbe } from './platform-probe.js';
export { backendService } from './backend-service/workflow.js';
