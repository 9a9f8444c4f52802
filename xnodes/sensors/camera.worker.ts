import type { WorkerModule } from '../../runtime/xnode/types.js';
import { createCamera } from './camera-source.js';

export default { create: (ctx) => createCamera(ctx) } satisfies WorkerModule;
