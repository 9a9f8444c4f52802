import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createDecode } from './stages.js';

export default { create: (ctx) => createDecode(ctx) } satisfies WorkerModule;
