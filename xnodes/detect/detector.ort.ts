// The detector's onnx implementation, created on its execution provider's session thread.
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createDetector } from './detector.js';

export default { create: (ctx) => createDetector(ctx) } satisfies WorkerModule;
