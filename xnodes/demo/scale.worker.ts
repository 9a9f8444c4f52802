import type { Tensor, WorkerModule } from '../../runtime/xnode/types.js';
import { core } from '../../runtime/util/native.js';
import { scaleTensor } from './scale-kernel.js';

export default {
  create(ctx) {
    const { a, b, work_us } = ctx.params as { a: number; b: number; work_us: number };
    const burn = core().burn;
    return (inputs) => {
      if (work_us > 0) burn(work_us);
      return { out: scaleTensor(inputs.in as Tensor, a, b) };
    };
  },
} satisfies WorkerModule;
