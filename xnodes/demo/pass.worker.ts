import type { WorkerModule } from '../../runtime/xnode/types.js';

export default { create: () => (inputs) => ({ out: inputs.in }) } satisfies WorkerModule;
