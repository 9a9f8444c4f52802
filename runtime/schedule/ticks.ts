// Paced stages: timer-driven stages that read inputs (a cyclic node, as the Autoware reference's
// BehaviorPlanner). Their frames' latency is not their figure, their period is: what reads their
// output (a controller, a command node) expects it every period, on time. So the planner holds
// each one's tick lateness (from when a tick was due to when it started, on the simulation) within
// a slack, as a constraint: among plans, the one that keeps every paced stage's ticks on time comes
// first, whatever the others gain in end-to-end latency, and among plans that cannot, the one that
// is late by least. A tick is late when its XPU's lanes, the shared cores or the event loop (which
// fires the ticks) are busy when it falls due: the work placed beside it decides that; so the
// planner also starts from plans that give each paced stage an XPU of its own (isolated).
import { performance } from 'node:perf_hooks';
import { prepare } from './evaluate.js';
import type { CostModel } from './model.js';
import type { SimResult } from './simulate.js';

/** The part of its period a paced stage's tick may start late (1 ms at 100 ms). */
export const TICK_SLACK = 0.01;

/** Lateness (ms) under which two plans count as equally on time: sampling of the simulation. */
export const TICK_EPS_MS = 0.05;

/** Timer-driven stages that read inputs, at a period. */
export function pacedStages(m: CostModel): number[] {
  const out: number[] = [];
  m.stages.forEach((s, v) => {
    if (s.timer && s.inputs.length > 0 && s.periodMs > 0) out.push(v);
  });
  return out;
}

/** How late (ms) paced stage `v`'s ticks may start. */
export function tickSlackMs(m: CostModel, v: number): number {
  return TICK_SLACK * m.stages[v]!.periodMs;
}

/**
 * Per paced stage, its worst simulated tick lateness (ms), and their sum beyond the slack: 0 when
 * every paced stage ticks on time.
 */
export function tickExcess(m: CostModel, r: SimResult, paced = pacedStages(m)): { late: number[]; excess: number } {
  let excess = 0;
  const late = paced.map((v) => {
    const l = r.stages[v]!.late;
    const worst = l.count ? l.max : 0;
    excess += Math.max(0, worst - tickSlackMs(m, v));
    return worst;
  });
  return { late, excess };
}

/**
 * A plan's score: its overload (how far the busiest XPU, or the shared cores, is loaded beyond
 * what it can do at the sources' rates), excess tick lateness (tickExcess) and cost (the
 * objective it is planned for).
 */
export interface Score {
  /** Load beyond 1 of the busiest XPU or of the cores (evaluate.ts loads; 0: keeps up, or not measured). */
  over?: number;
  excess: number;
  cost: number;
}

/**
 * True when `a` is the better plan as the constraints read: less overload (in steps of
 * OVER_STEP: a plan that cannot keep up with its sources loses frames however its ticks go, and
 * a short simulation does not see the queues grow), then less excess lateness (in steps of
 * TICK_EPS_MS, so that comparing stays transitive), then, equally on time, lower cost.
 */
export function better(a: Score, b: Score, eps = 1e-6): boolean {
  const oa = Math.round((a.over ?? 0) / OVER_STEP);
  const ob = Math.round((b.over ?? 0) / OVER_STEP);
  if (oa !== ob) return oa < ob;
  const qa = steps(a.excess);
  const qb = steps(b.excess);
  return qa !== qb ? qa < qb : a.cost < b.cost - eps;
}

/** True when `a` is later beyond the slack by less than `b`, in steps of TICK_EPS_MS. */
export function lessLate(a: Score, b: Score): boolean {
  return steps(a.excess) < steps(b.excess);
}

/** Overload counts in steps of this share of an XPU's (or the cores') capacity. */
const OVER_STEP = 0.02;

const steps = (excess: number) => Math.round(excess / TICK_EPS_MS);

/**
 * Per paced stage and XPU it can run on: the best plan `solve` (the planner's fast search) finds
 * with that stage alone there (every other stage that can run elsewhere kept off it), so nothing
 * it could wait for shares its lanes, or on an XPU of several lanes, with the others planned on
 * one lane fewer (the paced stage, ranked first, takes the one they leave); and each plan with
 * the stages of all but the most important paths (endWeights) moved off the event loop, which
 * fires the ticks. Single moves from the latency-best plans rarely reach these: moving the paced
 * stage alone leaves it beside what was there, moving the others one by one costs latency before
 * the tick is on time. Candidates for the refinement, which checks the ticks in full.
 */
export function isolated(m: CostModel, deadline: number, solve: (r: CostModel, deadline: number) => Int32Array): Int32Array[] {
  const out: Int32Array[] = [];
  const paced = pacedStages(m);
  // Per stage, the weight of the heaviest end its frames reach (endWeights).
  const sc = prepare(m);
  const importance = Float64Array.from(sc.weight);
  for (let k = m.order.length - 1; k >= 0; k--) {
    const v = m.order[k]!;
    for (const w of sc.succs[v]!) importance[v] = Math.max(importance[v]!, importance[w]!);
  }
  const top = Math.max(...importance);
  // On an XPU of several lanes, also with one lane kept for it: the others planned on the rest.
  const tries = paced.flatMap((v) =>
    [...new Set(m.stages[v]!.options.map((o) => o.xpu))].flatMap((x) => [{ v, x, lane: false }, ...(m.xpus[x]!.lanes > 1 ? [{ v, x, lane: true }] : [])]),
  );
  for (const [i, { v, x, lane }] of tries.entries()) {
    // Option indices of the restricted model, per stage, into the full one.
    const keep = m.stages.map((s, w) => {
      const idx = s.options.map((_, k) => k);
      const own = idx.filter((k) => s.options[k]!.xpu === x);
      const away = idx.filter((k) => s.options[k]!.xpu !== x);
      return w === v ? own : away.length && !lane ? away : idx;
    });
    const xpus = lane ? m.xpus.map((y, k) => (k === x ? { ...y, lanes: y.lanes - 1 } : y)) : m.xpus;
    const r: CostModel = { ...m, xpus, stages: m.stages.map((s, w) => ({ ...s, options: keep[w]!.map((k) => s.options[k]!) })) };
    const now = performance.now();
    const o = Int32Array.from(solve(r, now + (deadline - now) / (tries.length - i)), (k, w) => keep[w]![k]!);
    out.push(o);
    // The event loop fires the ticks: the same with the work of less important paths off it too.
    const loop = m.xpus.findIndex((y) => y.eventLoop);
    if (loop < 0 || x === loop) continue;
    const clear = o.slice();
    for (const [w, s] of m.stages.entries()) {
      if (w === v || s.options[o[w]!]!.xpu !== loop || importance[w]! >= top) continue;
      let best = -1;
      s.options.forEach((op, k) => {
        if (op.xpu !== loop && op.xpu !== x && (best < 0 || op.lat.p50 < s.options[best]!.lat.p50)) best = k;
      });
      if (best >= 0) clear[w] = best;
    }
    if (clear.some((k, w) => k !== o[w])) out.push(clear);
  }
  return out;
}
