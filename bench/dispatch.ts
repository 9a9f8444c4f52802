// Per-hop dispatch overhead of the executor: a chain of 100 trivial XNODEs in one process,
// against a plain chain of 100 function calls in the same run, and through the worker pool;
// and one pool call's round trip by postMessage, by shared memory, and by shared memory to a worker
// that idles on its event loop (the old wait) instead of in Atomics.wait, interleaved.
import { performance } from 'node:perf_hooks';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import type { ExecPlan } from '../runtime/exec/plan.js';
import { table } from '../runtime/trace/report.js';
import { EventKind } from '../runtime/trace/tracer.js';
import { quantile } from '../runtime/trace/stats.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import type { PortValues, StageFn } from '../runtime/xnode/types.js';
import { WorkerPool } from '../runtime/xpu/pool.js';
import { pass } from '../xnodes/demo/index.js';

/**
 * One frame in flight at a time (a frame leaves before the next is due), so the figure is the
 * cost of a hop and not queueing behind other frames: main-thread chains run synchronously in
 * fast mode; worker chains get a source rate slower than a frame's trip.
 */
async function chain(hops: number, impl: 'js' | 'worker', frames: number): Promise<Float64Array> {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const rate = impl === 'js' ? 0 : 200;
  const xs = [{ name: 'src', type: 'demo/counter', outputs: { out: 't0' }, params: { rate, size: 16 } }];
  for (let i = 1; i <= hops; i++) xs.push({ name: `p${i}`, type: 'demo/pass', inputs: { in: `t${i - 1}` }, outputs: { out: `t${i}` } } as never);
  const graph = buildGraph(describeXNodes(xs as never), registry);
  const xpus = await discoverXpus({ workers: 1 });
  const plan: ExecPlan = {
    name: impl,
    placements: graph.stages.map((s) => (s.index === 0 ? { impl: 'js', xpu: 'main', priority: 0 } : { impl, xpu: impl === 'js' ? 'main' : 'pool', priority: 0 })),
  };
  const ex = new Executor(graph, plan, { xpus, frames, realtime: rate > 0 });
  await ex.start();
  await ex.run();
  await ex.close();
  // Per frame: from the end of the source's run to the end of the last stage's, divided by the
  // hops. (Not e2e from the tick's due time: a real-time tick fires up to a timer's resolution
  // early or late, which would move a 10-hop figure by tens of µs per hop.)
  const srcEnd = new Map<number, number>();
  const perHop: number[] = [];
  for (const e of ex.tracer.events()) {
    if (e.kind !== EventKind.Run) continue;
    if (e.stage === 0) srcEnd.set(e.seq, e.end);
    else if (e.stage === hops && srcEnd.has(e.seq)) perHop.push(((e.end - srcEnd.get(e.seq)!) * 1000) / hops);
  }
  return Float64Array.from(perHop.slice(Math.floor(perHop.length / 10))).sort(); // drop warm-up
}

function plainCalls(hops: number, frames: number): Float64Array {
  const fns: StageFn[] = Array.from({ length: hops }, () => (inputs: PortValues) => ({ out: inputs.in }));
  const out = new Float64Array(frames);
  let sink: unknown;
  for (let f = 0; f < frames; f++) {
    const t = performance.now();
    let v: unknown = { dims: [16], data: new Float32Array(16) };
    for (let i = 0; i < hops; i++) v = (fns[i]!({ in: v }, { seq: f, t0: t }) as PortValues).out;
    sink = v;
    out[f] = ((performance.now() - t) * 1000) / hops;
  }
  if (!sink) throw new Error('unreachable');
  return out.slice(Math.floor(frames / 10)).sort();
}

/**
 * Round trips (µs) of one small call to an idle worker, in alternating rounds: postMessage, shared
 * memory, and shared memory to a worker that waits on its event loop instead of in Atomics.wait.
 */
async function poolRoundTrips(calls: number, rounds: number): Promise<{ post: Float64Array; shared: Float64Array; loop: Float64Array }> {
  const impl = pass.impls.find((i) => i.backend === 'worker')! as { module: string };
  const ctx = { name: 'p', type: 'demo/pass', impl: 'worker', xpu: 'pool', params: {}, priority: 0 };
  const events = { log: () => {}, count: () => {}, summary: () => {} };
  const pools = [new WorkerPool(1, events, 'post', false), new WorkerPool(1, events, 'shared', true), new WorkerPool(1, events, 'loop', true, 'loop')];
  const out = pools.map(() => new Float64Array(calls * rounds));
  try {
    for (const p of pools) await p.createStage(0, impl.module, ctx, false);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < pools.length; k++) {
        for (let i = 0; i < calls; i++) {
          const input = { in: { dims: [16], data: new Float32Array(16) } };
          const t = performance.now();
          await pools[k]!.run(0, 0, input, { seq: i, t0: t });
          out[k]![r * calls + i] = (performance.now() - t) * 1000;
        }
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return { post: out[0]!.sort(), shared: out[1]!.sort(), loop: out[2]!.sort() };
}

export default async function main(args: string[]): Promise<void> {
  const frames = Number(args[0] ?? 2000);
  const calls = plainCalls(100, frames);
  const hops = await chain(100, 'js', frames);
  const worker = await chain(10, 'worker', Math.min(frames, 400));
  const trips = await poolRoundTrips(200, 10);
  const p50 = (a: Float64Array) => quantile(a, 0.5);
  const p99 = (a: Float64Array) => quantile(a, 0.99);
  const f = (v: number) => v.toFixed(3);
  console.log(
    table([
      ['chain', 'hops', 'frames', 'hop us p50', 'hop us p99'],
      ['plain function calls', '100', String(frames), f(p50(calls)), f(p99(calls))],
      ['xauto executor, main thread', '100', String(frames), f(p50(hops)), f(p99(hops))],
      ['xauto executor, worker pool', '10', String(Math.min(frames, 400)), f(p50(worker)), f(p99(worker))],
      ['pool call round trip, postMessage', '1', '2000', f(p50(trips.post)), f(p99(trips.post))],
      ['pool call round trip, shared memory', '1', '2000', f(p50(trips.shared)), f(p99(trips.shared))],
      ['  worker idle on its event loop', '1', '2000', f(p50(trips.loop)), f(p99(trips.loop))],
    ]),
  );
  console.log(JSON.stringify({ bench: 'dispatch', hop_us_p50: +f(p50(hops)), ratio_vs_calls: +(p50(hops) / p50(calls)).toFixed(1), worker_hop_us_p50: +f(p50(worker)), pool_call_us_p50: +f(p50(trips.shared)), shared_over_post: +(p50(trips.shared) / p50(trips.post)).toFixed(2), sleep_over_loop: +(p50(trips.shared) / p50(trips.loop)).toFixed(2) }));
}
