// Cost models described compactly (hand-written cases in tests) or generated (layered random
// pipelines of any size, for planner timing and optimality-gap measurements).
import type { CostModel, ModelPort, ModelStage, ModelXpu } from './model.js';
import { mulberry32 } from '../util/random.js';

export interface XpuSpec {
  id: string;
  lanes?: number;
  eventLoop?: boolean;
  usesCores?: boolean;
  transferMs?: number;
}

export interface StageSpec {
  name: string;
  /** xpu id -> ms */
  cost: Record<string, number>;
  from?: string[];
  periodMs?: number;
  module?: string;
  priority?: number;
  bytes?: number;
  encodeMs?: number;
  decodeMs?: number;
  depth?: number;
}

/** A cost model from stage specs (listed in topological order). */
export function model(xpus: XpuSpec[], specs: StageSpec[], cores = Infinity): CostModel {
  const mx: ModelXpu[] = xpus.map((x) => ({
    id: x.id,
    kind: x.id,
    lanes: x.lanes ?? 1,
    real: false,
    usesCores: !!x.usesCores,
    eventLoop: !!x.eventLoop,
    pinsStateful: false,
  }));
  const idx = new Map(specs.map((s, i) => [s.name, i]));
  const stages: ModelStage[] = specs.map((s, i) => ({
    name: s.name,
    module: s.module ?? s.name,
    priority: s.priority ?? 0,
    periodMs: s.from?.length ? -1 : (s.periodMs ?? 100),
    stateful: false,
    options: Object.entries(s.cost).map(([x, ms]) => ({ impl: `on-${x}`, xpu: xpus.findIndex((y) => y.id === x), lat: { p50: ms } })),
    inputs: (s.from ?? []).map(
      (f): ModelPort => ({
        stage: i,
        port: `in_${f}`,
        topic: `/${f}`,
        type: 'xauto/Tensor',
        depth: s.depth ?? 1,
        latched: false,
        trigger: true,
        optional: false,
        producers: [idx.get(f)!],
        bytes: specs[idx.get(f)!]!.bytes ?? 1e6,
        encodeMs: specs[idx.get(f)!]!.encodeMs ?? 0,
        decodeMs: specs[idx.get(f)!]!.decodeMs ?? 0,
      }),
    ),
    consumers: [],
    sink: false,
  }));
  for (const s of stages) for (const p of s.inputs) stages[p.producers[0]!]!.consumers.push(p);
  for (const s of stages) s.sink = s.consumers.length === 0;
  return {
    stages,
    xpus: mx,
    order: stages.map((_, i) => i),
    sources: stages.flatMap((s, i) => (s.inputs.length ? [] : [i])),
    sinks: stages.flatMap((s, i) => (s.sink ? [i] : [])),
    cores,
    transfer: xpus.map((x) => ({ latencyMs: x.transferMs ?? 0, msPerMB: 0 })),
    simulated: true,
  };
}

/** The option index of `stage` on XPU `xpu`. */
export function on(m: CostModel, stage: string, xpu: string): number {
  const s = m.stages.find((x) => x.name === stage)!;
  return s.options.findIndex((o) => m.xpus[o.xpu]!.id === xpu);
}

/** Makes `stage` timer-driven at its period, reading `from` through a latched input (a cyclic node). */
export function pace(m: CostModel, stage: string, from: string): void {
  const v = m.stages.findIndex((s) => s.name === stage);
  const u = m.stages.findIndex((s) => s.name === from);
  const port: ModelPort = { stage: v, port: 'in_0', topic: `/${from}`, type: 'xauto/Tensor', depth: 1, latched: true, clear: true, trigger: false, optional: true, producers: [u], bytes: 0, encodeMs: 0, decodeMs: 0 };
  m.stages[v]!.inputs.push(port);
  m.stages[v]!.timer = true;
  m.stages[u]!.consumers.push(port);
  m.stages[u]!.sink = false;
  m.sources = m.sources.filter((s) => s !== v);
  m.sinks = m.sinks.filter((s) => s !== u);
}

export function placedOn(m: CostModel, option: number[], stage: string): string {
  const v = m.stages.findIndex((x) => x.name === stage);
  return m.xpus[m.stages[v]!.options[option[v]!]!.xpu]!.id;
}

/** Deterministic pseudo-random numbers in [0, 1). */
export const rng = mulberry32;

/**
 * A random perception-like pipeline of `n` stages: a few sources, chains that fork and join,
 * on a board with a CPU cluster, a GPU and two NPUs; every stage runs on the CPU and some
 * also on accelerators (faster, behind a transfer).
 */
export function randomPipeline(n: number, seed = 1): CostModel {
  const r = rng(seed);
  const xpus: XpuSpec[] = [
    { id: 'cpu', lanes: 4 },
    { id: 'gpu', lanes: 1, transferMs: 0.2 },
    { id: 'npu0', lanes: 1, transferMs: 0.3 },
    { id: 'npu1', lanes: 1, transferMs: 0.3 },
  ];
  const sources = Math.max(1, Math.min(4, Math.round(n / 10)));
  const specs: StageSpec[] = [];
  const tails: string[] = [];
  for (let k = 0; k < sources; k++) {
    specs.push({ name: `src${k}`, cost: { cpu: 0.2 + r() * 0.5 }, periodMs: Math.max(50, n * 2.5), module: `m${k}` });
    tails.push(`src${k}`);
  }
  for (let i = specs.length; i < n; i++) {
    const a = tails[Math.floor(r() * tails.length)]!;
    const from = [a];
    if (r() < 0.15 && tails.length > 1) {
      const b = tails[Math.floor(r() * tails.length)]!;
      if (b !== a) from.push(b);
    }
    const cpu = 0.5 + r() * 6;
    const cost: Record<string, number> = { cpu };
    if (r() < 0.5) cost.gpu = cpu * (0.15 + r() * 0.3);
    if (r() < 0.3) {
      const npu = cpu * (0.2 + r() * 0.4);
      cost.npu0 = npu;
      cost.npu1 = npu;
    }
    const name = `s${i}`;
    specs.push({ name, cost, from, module: `m${Math.floor(r() * sources)}`, bytes: 1e5 + r() * 1e6 });
    for (const f of from) {
      const j = tails.indexOf(f);
      if (j >= 0 && r() < 0.7) tails.splice(j, 1);
    }
    tails.push(name);
  }
  const m = model(xpus, specs);
  return m;
}
