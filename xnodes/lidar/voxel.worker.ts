import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createVoxel } from './stages.js';

export default { create: (ctx) => createVoxel(ctx) } satisfies WorkerModule;
