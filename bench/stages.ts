// Latency of every implementation of every perception stage on every XPU of this host, on
// inputs from the synthetic scene (the same inputs for every implementation, in one run).
// Worker implementations are timed through the real worker pool, so their figure includes
// the hop to the worker and back (inputs are copied, as on a topic with several subscribers).
// Device implementations (backend `device`) include their uploads; an output a device
// consumer would read in place (a device tensor) is not downloaded here.
//   npm run bench -- stages [--runs 40] [--objects 10]
import { performance } from 'node:perf_hooks';
import { deviceAddon } from '../runtime/gpu/native.js';
import { table } from '../runtime/trace/report.js';
import { quantile } from '../runtime/trace/stats.js';
import { WorkerPool } from '../runtime/xpu/pool.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { runsOn, type XpuInfo } from '../runtime/xpu/types.js';
import { runsOnThread, type ImplSpec, type PortValues, type XNodeDef } from '../runtime/xnode/types.js';
import { threadContext } from '../runtime/xpu/worker-protocol.js';
import { context, instantiate, perceptionXNodes, sampleInputs } from '../xnodes/perception-common/fixtures.js';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got '${args[i + 1]}'`);
  return v;
}

const WARMUP = 3;

async function timeImpl(def: XNodeDef, impl: ImplSpec, xpu: XpuInfo, inputs: PortValues[], runs: number, pool: WorkerPool, id: number): Promise<number[]> {
  const ctx = { ...context(def, impl.name), xpu: xpu.id, executionProvider: xpu.executionProvider };
  const times: number[] = [];
  if (runsOnThread(impl)) {
    await pool.createStage(id, impl.module, threadContext(ctx), true);
    const worker = pool.idleWorkerFor(id);
    for (let i = 0; i < WARMUP + runs; i++) {
      const t = performance.now();
      await pool.run(worker, id, inputs[i % inputs.length]!, { seq: i, t0: 0 });
      if (i >= WARMUP) times.push(performance.now() - t);
    }
    await pool.finishStage(id);
    return times;
  }
  const stage = await instantiate(impl, ctx);
  for (let i = 0; i < WARMUP + runs; i++) {
    const t = performance.now();
    await stage.process(inputs[i % inputs.length]!, { seq: i, t0: 0 });
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  await stage.finish?.();
  await stage.close?.();
  return times;
}

export default async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 40);
  const objects = arg(args, 'objects', 10);
  const xpus = (await discoverXpus({ workers: 1 })).filter((x) => x.real);
  const frames = await sampleInputs(Math.min(runs, 20), { objects });
  const pool = new WorkerPool(1, { log: () => {}, count: () => {}, summary: () => {} });
  const figures: Record<string, Record<string, number>> = {};
  const rows = [['stage', 'impl@xpu', 'p50 ms', 'p90 ms', 'min ms']];
  let id = 0;
  for (const def of perceptionXNodes) {
    const inputs = frames.map((f) => f[def.type]!);
    figures[def.type] = {};
    for (const impl of def.impls) {
      for (const xpu of xpus) {
        if (!runsOn(impl, xpu)) continue;
        const sorted = (await timeImpl(def, impl, xpu, inputs, runs, pool, id++)).sort((a, b) => a - b);
        const p50 = quantile(sorted, 0.5);
        figures[def.type]![`${impl.name}@${xpu.id}`] = Math.round(p50 * 1000) / 1000;
        rows.push([def.type, `${impl.name}@${xpu.id}`, p50.toFixed(3), quantile(sorted, 0.9).toFixed(3), sorted[0]!.toFixed(3)]);
      }
    }
  }
  await pool.close();
  console.log(`perception stages, ${runs} runs each on synthetic-scene inputs (${objects} objects); XPUs: ${xpus.map((x) => `${x.id} (${x.note})`).join(', ')}`);
  console.log(table(rows, 2));
  const device = xpus.find((x) => x.backend === 'device');
  console.log(JSON.stringify({ bench: 'stages', device_backend: device ? deviceAddon().backend : 'none', stages: figures }));
}
