import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createDetectorJs } from './detector-js.js';

export default { create: (ctx) => createDetectorJs(ctx) } satisfies WorkerModule;
