// A stage's context carries the plan's priority (critical-path priorities from the planner),
// not the launch file's: a device stage's stream priority follows the plan.
import test from 'ava';
import { existsSync } from 'node:fs';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { StageDevice } from '../runtime/gpu/stage.js';
import { CRITICAL_PATH_BAND } from '../runtime/gpu/priority.js';
import { XNodeRegistry, defineXNode } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const addon = new URL('../native/device/build/Release/xauto_device.node', import.meta.url);
const missing = existsSync(addon) ? undefined : 'native/device is not built (node scripts/build-native.mjs device)';
if (missing) console.log(process.env.CI ? `failing in CI: ${missing}` : `skipped: ${missing}`);
const deviceTest = missing && !process.env.CI ? test.skip : test;

deviceTest('a device stage gets the plan priority: its stream priority follows the plan, not the launch file', async (t) => {
  const T = { type: 'xauto/Tensor' } as const;
  const seen: Array<{ ctx: number; stream: number }> = [];
  const reg = new XNodeRegistry().register(
    defineXNode({ type: 'p/src', outputs: { out: T }, params: { rate: { type: 'float', default: 0 } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: { dims: [1], data: new Float32Array([f.seq]) } }) }] }),
    defineXNode({
      type: 'p/dev',
      inputs: { in: T },
      impls: [
        {
          name: 'device',
          xpu: '*',
          backend: 'device',
          create: (ctx) => {
            const dev = new StageDevice(ctx.name, ctx.priority);
            seen.push({ ctx: ctx.priority, stream: dev.stream.priority });
            return { process: async () => null, close: () => dev.lease.release() };
          },
        },
      ],
    }),
  );
  const graph = buildGraph(
    describeXNodes([
      { name: 'src', type: 'p/src', outputs: { out: '/a' }, impls: [] },
      { name: 'gpu', type: 'p/dev', inputs: { in: '/a' }, impls: [], priority: 5 },
    ]),
    reg,
  );
  const xpus = await discoverXpus({ workers: 1 });
  const plan = defaultPlan(graph, xpus);
  t.is(plan.placements[1]!.xpu, 'device');
  t.is(plan.placements[1]!.priority, 5, 'the default plan keeps the launch priority');
  // As the planner does for a stage on the critical path.
  plan.placements[1] = { ...plan.placements[1]!, priority: 5 + CRITICAL_PATH_BAND };
  const costs = { runMs: () => 0.1, decodeMs: () => 0, encodeMs: () => 0, transferMs: () => 0, usesCores: () => false, pinnedWorker: () => -1 };
  const ex = new Executor(graph, plan, { xpus, frames: 2, virtual: { machine: new VirtualMachine(), costs }, log: () => {} });
  await ex.start();
  await ex.run();
  await ex.close();
  t.deepEqual(seen, [{ ctx: 5 + CRITICAL_PATH_BAND, stream: 5 + CRITICAL_PATH_BAND }]);
});
