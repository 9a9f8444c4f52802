// Every reference node kind in a worker thread, with the JS number cruncher.
import type { WorkerModule } from '../../runtime/xnode/types.js';
import { numberCruncher } from './crunch.js';
import { KINDS, kindOf } from './nodes.js';

export default {
  create(ctx) {
    return KINDS[kindOf(ctx.type)](ctx, numberCruncher);
  },
} satisfies WorkerModule;
