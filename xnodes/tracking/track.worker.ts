import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createTrack } from './stages.js';

export default { create: (ctx) => createTrack(ctx) } satisfies WorkerModule;
