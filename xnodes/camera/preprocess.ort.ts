// The preprocess stage's onnx implementation, created on its execution provider's session thread.
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createPreprocessOnnx } from './preprocess-onnx.js';

export default { create: (ctx) => createPreprocessOnnx(ctx) } satisfies WorkerModule;
