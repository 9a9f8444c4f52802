// Critical path first: on top of the executor priorities (launch priority, then upward rank),
// every stage on a longest source->sink path of the plan gets CRITICAL_PATH_BAND more, so where
// two branches share an XPU — above all the device, where a higher-priority launch preempts
// lower-priority idempotent kernels — the branch that decides the end-to-end latency goes first.
// Stages after the branches join are on every path, so they count as critical too. And the
// weights launch priorities give the ends of frames in the planner's objective.
import { CRITICAL_PATH_BAND } from '../gpu/priority.js';
import type { EvalScratch } from './evaluate.js';
import { transferMs, type CostModel } from './model.js';

/**
 * `base` (per stage) raised by CRITICAL_PATH_BAND on the critical path. `rank` is each stage's
 * upward rank (its work plus the longest tail to a sink, transfers included).
 */
export function criticalPathFirst(m: CostModel, sc: EvalScratch, option: ArrayLike<number>, rank: ArrayLike<number>, base: number[]): number[] {
  const n = m.stages.length;
  // head[v]: longest path from a source to the start of v (work and transfers).
  const head = new Float64Array(n);
  const xpuOf = (v: number) => m.stages[v]!.options[option[v]!]!.xpu;
  const work = (v: number) => m.stages[v]!.options[option[v]!]!.lat.p50;
  for (const v of m.order) {
    sc.preds[v]!.forEach((u, k) => {
      head[v] = Math.max(head[v]!, head[u]! + work(u) + transferMs(m, xpuOf(u), xpuOf(v), sc.predBytes[v]![k]!));
    });
  }
  let longest = 0;
  for (let v = 0; v < n; v++) longest = Math.max(longest, head[v]! + rank[v]!);
  const eps = 1e-9 * Math.max(1, longest);
  return base.map((p, v) => (head[v]! + rank[v]! >= longest - eps ? p + CRITICAL_PATH_BAND : p));
}

/**
 * How much the latency of frames ending at each stage counts in the objective, by the launch
 * priority of the frames' origin (the lowest of the sources and timer-driven stages whose
 * frames reach it along trigger inputs): each level, in rank among the ends' levels, outweighs
 * all those below it a thousandfold. So the data of a higher-priority sensor or timer is planned
 * for first, as the executor dispatches it first (the Autoware hot path from its lidars), and
 * the rest within what that leaves. All ends weigh 1 when no priorities are given. A timer-driven
 * stage that reads inputs (a cyclic node, as BehaviorPlanner) is no ranked origin: its launch
 * priority ranks its ticks in dispatch (a periodic tick must not wait for the work it coincides
 * with), not the latency of what they start, whose ends rank by their own priority.
 */
export function endWeights(m: CostModel, sink: ArrayLike<number>, preds: number[][], source: ArrayLike<number>): Float64Array {
  const origin = new Float64Array(m.stages.length).fill(Infinity);
  for (const v of m.order) {
    if (source[v] && m.stages[v]!.inputs.length > 0) continue;
    if (source[v]) origin[v] = m.stages[v]!.priority;
    else for (const u of preds[v]!) origin[v] = Math.min(origin[v]!, origin[u]!);
  }
  const level = (v: number) => (Number.isFinite(origin[v]!) ? origin[v]! : m.stages[v]!.priority);
  const levels = [...new Set(m.stages.flatMap((_, v) => (sink[v] ? [level(v)] : [])))].sort((a, b) => a - b);
  return Float64Array.from(m.stages, (_, v) => (sink[v] ? 1000 ** levels.indexOf(level(v)) : 0));
}
