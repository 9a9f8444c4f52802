// planning/rollout, speculative: the target verifies on this execution provider's thread,
// drafters run ahead on a worker thread of their own.
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createRollout } from './stage.js';

export default { create: (ctx) => createRollout(ctx, true) } satisfies WorkerModule;
