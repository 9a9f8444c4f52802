// Entry of every pool worker. Plain JS so it runs from sources (tsx) and from dist/ alike:
// when the parent runs from TypeScript sources, the worker registers tsx first.
import { workerData } from 'node:worker_threads';

if (workerData.fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.host);
