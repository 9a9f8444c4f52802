import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createEvaluate } from './stages.js';

export default { create: (ctx) => createEvaluate(ctx) } satisfies WorkerModule;
