// The two references the XAUTO plan is measured against.
//
// Module-level baseline (how ROS2 schedules): stages are grouped into modules as the launch
// file groups them; each module runs on one XPU — the one where the module as a whole is
// fastest, as an engineer deploying the node would pick it (the sum of its stages' times
// there; a stage with no implementation there runs on its own fastest) — its stages one at a
// time (one node, one single-threaded executor), modules concurrently, and messages between
// modules are serialized as between ROS2 nodes. Choosing by the heaviest stage alone made the
// baseline a straw man on a knife edge: perception's preprocess (3.22 ms on main, 3.25 on
// onnxruntime) then took the detector to JS at 3x its onnxruntime time.
//
// Composable-node baseline (`module-ipc`, how a ROS2 component container runs them): the same
// placement, but every module is a composable node in one container with intra-process
// transport, so messages pass by reference (no serialization). The container's executor is
// either single-threaded (`module-ipc`: one callback at a time in the whole container, taken
// in the order they became ready) or multi-threaded (`module-ipc-mt`: a pool, each node's
// callbacks mutually exclusive, as its default callback group makes them).
//
// Lower bound: every stage on its fastest option (warm where it can follow another stage on its
// XPU), no contention, no transfers: the critical path from the sources to each sink. No plan
// on this model can beat it.
import { fastest, type Assignment, type CostModel, type ModelStage } from './model.js';

export interface ModuleBaseline {
  assignment: Assignment;
  /** Per module: the XPU chosen, its stages' summed time there (ms) and its heaviest stage. */
  modules: Array<{ name: string; xpu: string; ms: number; heaviest: string; stages: string[] }>;
  /** Stages with no option on their module's XPU (kept on their own fastest option). */
  strays: string[];
}

/** A stage's option on XPU x: its fastest there, or (a stray) its fastest anywhere. */
function optionOn(s: ModelStage, x: number): { option: number; stray: boolean } {
  let best = -1;
  let bestAny = 0;
  s.options.forEach((o, i) => {
    if (o.xpu === x && (best < 0 || o.lat.p50 < s.options[best]!.lat.p50)) best = i;
    if (o.lat.p50 < s.options[bestAny]!.lat.p50) bestAny = i;
  });
  return best < 0 ? { option: bestAny, stray: true } : { option: best, stray: false };
}

export function moduleBaseline(m: CostModel): ModuleBaseline {
  const byModule = new Map<string, number[]>();
  m.stages.forEach((s, v) => {
    let list = byModule.get(s.module);
    if (!list) byModule.set(s.module, (list = []));
    list.push(v);
  });
  const option = new Array<number>(m.stages.length).fill(0);
  const modules: ModuleBaseline['modules'] = [];
  const strays: string[] = [];
  for (const [name, members] of byModule) {
    let heavy = members[0]!;
    for (const v of members) if (fastest(m.stages[v]!) > fastest(m.stages[heavy]!)) heavy = v;
    const sum = (x: number) => members.reduce((t, v) => t + m.stages[v]!.options[optionOn(m.stages[v]!, x).option]!.lat.p50, 0);
    // Candidates in the order of the heaviest stage's options, fastest first: a tie keeps the XPU it is fastest on.
    const candidates = [...new Set([...m.stages[heavy]!.options].sort((a, b) => a.lat.p50 - b.lat.p50).map((o) => o.xpu))];
    for (const v of members) for (const o of m.stages[v]!.options) if (!candidates.includes(o.xpu)) candidates.push(o.xpu);
    let [xpu, ms] = [candidates[0]!, sum(candidates[0]!)];
    for (const x of candidates.slice(1)) {
      const t = sum(x);
      if (t < ms - 1e-9) [xpu, ms] = [x, t];
    }
    for (const v of members) {
      const o = optionOn(m.stages[v]!, xpu);
      if (o.stray) strays.push(m.stages[v]!.name);
      option[v] = o.option;
    }
    modules.push({ name, xpu: m.xpus[xpu]!.id, ms, heaviest: m.stages[heavy]!.name, stages: members.map((v) => m.stages[v]!.name) });
  }
  return {
    assignment: {
      option,
      priority: m.stages.map((s) => s.priority),
      group: m.stages.map((s) => `module:${s.module}`),
      serialize: true,
    },
    modules,
    strays,
  };
}

export type ContainerExecutor = 'single' | 'multi';

/** The plan names of the composable-node baseline, by container executor. */
export const ipcPlanName: Record<ContainerExecutor, string> = { single: 'module-ipc', multi: 'module-ipc-mt' };

export function moduleIpcBaseline(m: CostModel, executor: ContainerExecutor = 'single'): ModuleBaseline {
  const base = moduleBaseline(m);
  const a = base.assignment;
  return {
    ...base,
    assignment: {
      option: a.option,
      // Single-threaded: one exclusive group spanning the container, every callback at one
      // priority, so the dispatch core takes them FIFO by readiness. Multi-threaded: only the
      // serialization differs from the module baseline (so comparing the two isolates it).
      priority: executor === 'single' ? m.stages.map(() => 0) : a.priority,
      group: executor === 'single' ? m.stages.map(() => 'container') : a.group,
      serialize: false,
    },
  };
}

export interface LowerBound {
  /** Per sink stage index: critical path (ms) with every stage at its fastest. */
  bySink: Map<number, number>;
  /**
   * Bound on the p50 of all sinks' end-to-end samples pooled (as the run summary reports
   * it): every sample of sink k is >= its bound, so the pooled median is >= the median of
   * the bounds weighted by how many samples each sink contributes (its rate).
   */
  p50: number;
  /** Bound on the mean over sinks (the planner's objective). */
  mean: number;
}

/**
 * The least time a stage can take on the critical path under the cost model: one fed by another
 * stage may run right after it on the same XPU, warm where it has a warm time (model.ts warmAt,
 * build.ts WARM_BYTES); a source starts at its tick, after its XPU idled since the last frame, cold.
 */
function leastRun(s: ModelStage, fed: boolean): number {
  let best = Infinity;
  for (const o of s.options) best = Math.min(best, fed && o.lat.warm ? Math.min(o.lat.warm.p50, o.lat.p50) : o.lat.p50);
  return best;
}

export function lowerBound(m: CostModel): LowerBound {
  const est = new Float64Array(m.stages.length);
  const preds: number[][] = m.stages.map(() => []);
  m.stages.forEach((s, v) => {
    for (const p of s.inputs) if (p.trigger) for (const u of p.producers) preds[v]!.push(u);
  });
  const period = new Float64Array(m.stages.length);
  for (const v of m.order) {
    let start = 0;
    let per = m.stages[v]!.inputs.length === 0 || m.stages[v]!.timer ? Math.max(0, m.stages[v]!.periodMs) : 0;
    for (const u of preds[v]!) {
      start = Math.max(start, est[u]!);
      per = Math.max(per, period[u]!);
    }
    est[v] = start + leastRun(m.stages[v]!, preds[v]!.length > 0);
    period[v] = per;
  }
  const bySink = new Map<number, number>();
  for (const s of m.sinks) bySink.set(s, est[s]!);
  const weighted = m.sinks.map((s) => ({ v: est[s]!, w: period[s]! > 0 ? 1 / period[s]! : 1 })).sort((a, b) => a.v - b.v);
  const total = weighted.reduce((a, b) => a + b.w, 0);
  let acc = 0;
  let p50 = weighted.length ? weighted[weighted.length - 1]!.v : 0;
  for (const x of weighted) {
    acc += x.w;
    if (acc >= total / 2 - 1e-12) {
      p50 = x.v;
      break;
    }
  }
  const mean = m.sinks.reduce((a, s) => a + est[s]!, 0) / Math.max(1, m.sinks.length);
  return { bySink, p50, mean };
}
