import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createPreprocess } from './preprocess-stage.js';

export default { create: (ctx) => createPreprocess(ctx) } satisfies WorkerModule;
