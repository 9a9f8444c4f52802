// Critical path first: on top of the executor priorities (launch priority, then upward rank),
// every stage on a longest source->sink path of the plan gets CRITICAL_PATH_BAND more, so where
// two branches share an XPU — above all the device, where a higher-priority launch preempts
// lower-priority idempotent kernels — the branch that decides the end-to-end latency goes first.
// Stages after the branches join are on every path, so they count as critical too.
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
