// planning/draft on the worker pool (onnxruntime's CPU kernels on a pool thread).
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createDraftStage } from './draft-stage.js';

export default { create: (ctx) => createDraftStage(ctx) } satisfies WorkerModule;
