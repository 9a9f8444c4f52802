import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createCluster } from './stages.js';

export default { create: (ctx) => createCluster(ctx) } satisfies WorkerModule;
