// Every workflow the worker registers. The bundler starts here (worker/create-worker.ts).
export { backendService } from './backend-service/workflow.js';
