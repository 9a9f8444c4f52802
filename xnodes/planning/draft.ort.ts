// planning/draft on an execution provider's thread: the smaller model drafting whole rollouts.
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createDraftStage } from './draft-stage.js';

export default { create: (ctx) => createDraftStage(ctx) } satisfies WorkerModule;
