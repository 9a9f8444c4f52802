import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createGround } from './stages.js';

export default { create: (ctx) => createGround(ctx) } satisfies WorkerModule;
