// Small XNODEs for the hello pipeline, tests and the dispatch benchmark.
import { defineXNode, type Tensor } from '../../runtime/xnode/index.js';
import { core } from '../../runtime/util/native.js';
import { scaleTensor } from './scale-kernel.js';

/** A source of float tensors whose values encode the frame number (checked by `demo/check`). */
export const counter = defineXNode({
  type: 'demo/counter',
  description: 'Emits a float32 tensor [n] filled with the frame number, at `rate` Hz.',
  outputs: { out: { type: 'xauto/Tensor' } },
  params: {
    rate: { type: 'float', default: 30, min: 0, description: 'frames per second (0: as fast as taken)' },
    size: { type: 'int', default: 1024, min: 1 },
  },
  impls: [
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const n = ctx.params.size as number;
        return (_in, frame) => ({ out: { dims: [n], data: new Float32Array(n).fill(frame.seq) } satisfies Tensor });
      },
    },
  ],
});

/** y = a·x + b over a tensor, plus `work_us` of real CPU work: the same on every implementation. */
export const scale = defineXNode({
  type: 'demo/scale',
  description: 'y = a*x + b; `work_us` spins the CPU to model a heavier stage.',
  inputs: { in: { type: 'xauto/Tensor' } },
  outputs: { out: { type: 'xauto/Tensor' } },
  params: {
    a: { type: 'float', default: 2 },
    b: { type: 'float', default: 1 },
    work_us: { type: 'float', default: 0, min: 0 },
  },
  impls: [
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const { a, b, work_us } = ctx.params as { a: number; b: number; work_us: number };
        const burn = core().burn;
        return (inputs) => {
          if (work_us > 0) burn(work_us);
          return { out: scaleTensor(inputs.in as Tensor, a, b) };
        };
      },
    },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./scale.worker.js', import.meta.url).href },
    {
      name: 'native',
      xpu: 'cpu',
      backend: 'native',
      create: (ctx) => {
        const { a, b, work_us } = ctx.params as { a: number; b: number; work_us: number };
        const { burnAsync } = core();
        return async (inputs) => {
          if (work_us > 0) await burnAsync(work_us);
          return { out: scaleTensor(inputs.in as Tensor, a, b) };
        };
      },
    },
  ],
});

/** Passes a tensor through unchanged (the same buffer): for chains in benchmarks and tests. */
export const pass = defineXNode({
  type: 'demo/pass',
  inputs: { in: { type: 'xauto/Tensor' } },
  outputs: { out: { type: 'xauto/Tensor' } },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: () => (inputs) => ({ out: inputs.in }) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./pass.worker.js', import.meta.url).href },
  ],
});

/** Checks that every value equals a·seq + b and counts mismatches (a sink). */
export const check = defineXNode({
  type: 'demo/check',
  inputs: { in: { type: 'xauto/Tensor' } },
  params: { a: { type: 'float', default: 2 }, b: { type: 'float', default: 1 } },
  impls: [
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const { a, b } = ctx.params as { a: number; b: number };
        let frames = 0;
        let wrong = 0;
        return {
          process(inputs, frame) {
            const t = inputs.in as Tensor;
            const want = Math.fround(a * frame.seq + b);
            frames++;
            if (!t.data.every((v) => v === want)) {
              wrong++;
              ctx.count('demo.check_mismatch');
            }
            return null;
          },
          finish() {
            ctx.summary('check', { frames, wrong });
          },
        };
      },
    },
  ],
});

export const xnodes = [counter, scale, pass, check];
