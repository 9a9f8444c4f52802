import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createLidar } from './lidar-source.js';

export default { create: (ctx) => createLidar(ctx) } satisfies WorkerModule;
