// planning/rollout, plain decoding: one target call per step (the reference speculation matches).
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createRollout } from './stage.js';

export default { create: (ctx) => createRollout(ctx, false) } satisfies WorkerModule;
