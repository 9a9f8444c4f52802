import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createFusion } from './stages.js';

export default { create: (ctx) => createFusion(ctx) } satisfies WorkerModule;
