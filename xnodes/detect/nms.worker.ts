import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createNms } from './stages.js';

export default { create: (ctx) => createNms(ctx) } satisfies WorkerModule;
