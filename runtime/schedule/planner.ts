// The XAUTO planner: assigns an (implementation, XPU) option to every stage and a dispatch
// priority, minimising the mean end-to-end latency over every source->sink path at the
// sources' rates, paths ranked by their origin's launch priority (endWeights), as evaluate.ts
// estimates it (lanes, shared cores, transfers, the event loop, successive frames
// overlapping, overload), then refined on the full simulation (refine.ts). Small problems are solved exactly by
// branch and bound over assignments (priorities follow from the assignment by upward rank);
// larger ones start from HEFT-style list scheduling and the all-fastest assignment and
// improve by local search (single-stage moves) within a time budget. Paced stages (timer-driven
// stages reading inputs, ticks.ts) keep their ticks on time as a constraint ranked before the
// latency: the refinement and the phase search hold it, and start also from plans that give
// each paced stage an XPU of its own.
import { performance } from 'node:perf_hooks';
import { evaluate, prepare, priorities, upwardRank, type EvalScratch } from './evaluate.js';
import { transferMs, type Assignment, type CostModel } from './model.js';
import { planPhases } from './phases.js';
import { criticalPathFirst } from './priorities.js';
import { gathered, pacedLateness, refineBySimulation } from './refine.js';
import { isolated, pacedStages, tickSlackMs } from './ticks.js';

export { simulatedCost } from './refine.js';

export interface PlanOptions {
  /** Solve exactly when the number of assignments is at most this (default 4096). */
  exactLimit?: number;
  /** Force exact search (any size; bounded by budgetMs) or heuristic only. */
  method?: 'auto' | 'exact' | 'heuristic';
  /** Wall-time budget for the search (ms); default 800. */
  budgetMs?: number;
  /** Refine by simulation (default: on models of a real host with <= 64 stages). */
  refine?: boolean;
  /** Extra budget for the refinement (ms; default 400). */
  refineMs?: number;
  /** Choose timer phases (default: when a source runs at a period). */
  phases?: boolean;
  /** Budget for the phase search (ms; default 400). */
  phaseMs?: number;
}

export interface PlannerResult {
  assignment: Assignment;
  /** The evaluator's estimate of the mean end-to-end latency (ms). */
  estimateMs: number;
  method: 'exact' | 'heuristic';
  /** The choice was refined by local search on the full simulation (real hosts). */
  refined: boolean;
  /** Exact search finished within the budget (the result is optimal for the estimate). */
  complete: boolean;
  evaluations: number;
  planMs: number;
  /** Per paced stage (ticks.ts): its worst simulated tick lateness under the plan and its slack (ms). */
  ticks: Array<{ stage: number; lateMs: number; slackMs: number }>;
}

export function planXauto(m: CostModel, opts: PlanOptions = {}): PlannerResult {
  const t0 = performance.now();
  const sc = prepare(m);
  const budget = opts.budgetMs ?? 800;
  const deadline = t0 + budget;
  for (const [v, s] of m.stages.entries()) {
    if (s.options.length === 0) throw new Error(`stage '${s.name}' (#${v}) has no placement option on these XPUs`);
  }
  const space = m.stages.reduce((p, s) => p * s.options.length, 1);
  const method = opts.method === 'exact' || (opts.method !== 'heuristic' && space <= (opts.exactLimit ?? 4096)) ? 'exact' : 'heuristic';
  const search = new Search(m, sc, deadline);
  search.heuristic();
  let complete = false;
  if (method === 'exact') complete = search.branchAndBound();
  let option: Int32Array = search.best;
  let refined = false;
  // On a real host the event loop and the shared cores couple every XPU to the main thread
  // in ways the fast estimate only approximates: the best candidates are then refined by
  // local search on the full simulation (the same one that predicts the run).
  const host = m.xpus.some((x) => x.eventLoop) || Number.isFinite(m.cores);
  if (opts.refine ?? (host && m.stages.length <= 64)) {
    const own = isolated(m, performance.now() + budget / 4, (r, until) => {
      const search = new Search(r, prepare(r), until);
      search.heuristic();
      return search.best;
    });
    const r = refineBySimulation(m, sc, [...search.top(), ...gathered(m, search.best), ...own], performance.now() + (opts.refineMs ?? 400));
    if (r) {
      option = r;
      refined = true;
    }
  }
  const assignment: Assignment = { option: [...option], priority: criticalPathFirst(m, sc, option, upwardRank(m, sc, option), priorities(m, upwardRank(m, sc, option))) };
  // Timers' phases last, on the placement and order chosen: they spread the releases of
  // timers of one period that would otherwise queue behind each other (phases.ts).
  if (opts.phases ?? m.sources.some((v) => m.stages[v]!.periodMs > 0)) {
    const phase = planPhases(m, sc, assignment, { deadline: performance.now() + (opts.phaseMs ?? 400) });
    if (phase) assignment.phase = phase;
  }
  const paced = pacedStages(m);
  const late = paced.length ? pacedLateness(m, assignment).late : [];
  return {
    assignment,
    ticks: paced.map((v, k) => ({ stage: v, lateMs: late[k]!, slackMs: tickSlackMs(m, v) })),
    estimateMs: refined ? estimate(m, option, sc) : search.bestVal,
    method,
    refined,
    complete,
    evaluations: search.evaluations,
    planMs: performance.now() - t0,
  };
}

/** The estimate of an assignment, with priorities derived as the planner derives them. */
export function estimate(m: CostModel, option: ArrayLike<number>, sc: EvalScratch = prepare(m)): number {
  return evaluate(m, sc, option, priorities(m, upwardRank(m, sc, option)));
}

class Search {
  best: Int32Array;
  bestVal = Infinity;
  evaluations = 0;

  constructor(
    private readonly m: CostModel,
    private readonly sc: EvalScratch,
    private readonly deadline: number,
  ) {
    this.best = new Int32Array(m.stages.length);
  }

  private value(option: Int32Array): number {
    this.evaluations++;
    const v = evaluate(this.m, this.sc, option, priorities(this.m, upwardRank(this.m, this.sc, option)));
    this.consider(option, v);
    return v;
  }

  /** Distinct good assignments seen, best first (candidates for refinement). */
  private readonly seen = new Map<string, { option: Int32Array; val: number }>();

  private consider(option: Int32Array, val: number): void {
    if (val < this.bestVal - 1e-9) {
      this.bestVal = val;
      this.best = option.slice();
    }
    const key = option.join(',');
    if (!this.seen.has(key)) {
      this.seen.set(key, { option: option.slice(), val });
      if (this.seen.size > 64) {
        let worst = '';
        let wv = -Infinity;
        for (const [k, e] of this.seen) if (e.val > wv) (wv = e.val), (worst = k);
        this.seen.delete(worst);
      }
    }
  }

  top(k = 4): Int32Array[] {
    return [...this.seen.values()].sort((a, b) => a.val - b.val).slice(0, k).map((e) => e.option);
  }

  heuristic(): void {
    // Descend from the better of the two starts; small graphs can afford both.
    const starts = [this.allFastest(), this.heft()].map((o) => ({ o, v: this.value(o) })).sort((a, b) => a.v - b.v);
    for (const [i, { o, v }] of starts.entries()) {
      if (i > 0 && this.m.stages.length > 16) break;
      this.descend(o, v);
      if (performance.now() > this.deadline) break;
    }
  }

  private allFastest(): Int32Array {
    return Int32Array.from(this.m.stages, (s) => {
      let b = 0;
      s.options.forEach((o, i) => {
        if (o.lat.p50 < s.options[b]!.lat.p50) b = i;
      });
      return b;
    });
  }

  /** HEFT: stages by upward rank (mean costs), each on the option finishing it earliest. */
  private heft(): Int32Array {
    const m = this.m;
    const n = m.stages.length;
    const meanCost = m.stages.map((s) => s.options.reduce((a, o) => a + o.lat.p50, 0) / s.options.length);
    const rank = new Float64Array(n);
    for (let k = m.order.length - 1; k >= 0; k--) {
      const v = m.order[k]!;
      let tail = 0;
      for (const w of this.sc.succs[v]!) tail = Math.max(tail, rank[w]!);
      rank[v] = meanCost[v]! + tail;
    }
    const byRank = [...m.order].sort((a, b) => rank[b]! - rank[a]!);
    const laneFree = m.xpus.map((x) => new Float64Array(x.lanes));
    const finish = new Float64Array(n);
    const option = new Int32Array(n);
    for (const v of byRank) {
      const s = m.stages[v]!;
      let best = 0;
      let bestEnd = Infinity;
      let bestLane = 0;
      s.options.forEach((o, i) => {
        let readyAt = 0;
        this.sc.preds[v]!.forEach((u, k) => {
          const xu = m.stages[u]!.options[option[u]!]!.xpu;
          readyAt = Math.max(readyAt, finish[u]! + transferMs(m, xu, o.xpu, this.sc.predBytes[v]![k]!));
        });
        const lanes = laneFree[o.xpu]!;
        let lane = 0;
        for (let l = 1; l < lanes.length; l++) if (lanes[l]! < lanes[lane]!) lane = l;
        const end = Math.max(readyAt, lanes[lane]!) + o.lat.p50;
        if (end < bestEnd) {
          bestEnd = end;
          best = i;
          bestLane = lane;
        }
      });
      option[v] = best;
      finish[v] = bestEnd;
      laneFree[s.options[best]!.xpu]![bestLane] = bestEnd;
    }
    return option;
  }

  /** First-improvement descent over single-stage moves until no move helps. */
  private descend(option: Int32Array, val: number): void {
    const m = this.m;
    const cur = option.slice();
    let curVal = val;
    let improved = true;
    while (improved) {
      improved = false;
      const rank = upwardRank(m, this.sc, cur);
      const byRank = [...m.order].sort((a, b) => rank[b]! - rank[a]!);
      for (const v of byRank) {
        const keep = cur[v]!;
        for (let o = 0; o < m.stages[v]!.options.length; o++) {
          if (o === keep) continue;
          cur[v] = o;
          const nv = this.value(cur);
          if (nv < curVal - 1e-9) {
            curVal = nv;
            improved = true;
            break;
          }
          cur[v] = keep;
        }
        if (performance.now() > this.deadline) {
          this.consider(cur, curVal);
          return;
        }
      }
    }
    this.consider(cur, curVal);
  }

  /**
   * Branch and bound in topological order. The bound of a partial assignment is the mean
   * over sinks of the critical path (assigned stages at their option's cost and transfers,
   * the rest at their fastest, no transfer), plus the overload penalty of assigned stages:
   * neither can shrink as more stages are assigned. Returns true when it finished.
   */
  branchAndBound(): boolean {
    const m = this.m;
    const n = m.stages.length;
    const order = m.order;
    const minCost = m.stages.map((s) => Math.min(...s.options.map((o) => o.lat.p50)));
    const optOrder = m.stages.map((s) => s.options.map((_, i) => i).sort((a, b) => s.options[a]!.lat.p50 - s.options[b]!.lat.p50));
    const cur = new Int32Array(n).fill(-1);
    const est = new Float64Array(n);
    const sinks = m.sinks;
    let aborted = false;
    let nodes = 0;

    const bound = (): number => {
      for (const v of order) {
        let start = 0;
        const preds = this.sc.preds[v]!;
        for (let k = 0; k < preds.length; k++) {
          const u = preds[k]!;
          let t = est[u]!;
          if (cur[u]! >= 0 && cur[v]! >= 0) {
            t += transferMs(m, m.stages[u]!.options[cur[u]!]!.xpu, m.stages[v]!.options[cur[v]!]!.xpu, this.sc.predBytes[v]![k]!);
          }
          if (t > start) start = t;
        }
        est[v] = start + (cur[v]! >= 0 ? m.stages[v]!.options[cur[v]!]!.lat.p50 : minCost[v]!);
      }
      let sum = 0;
      for (const s of sinks) sum += est[s]!;
      return sum / sinks.length + this.partialPenalty(cur);
    };

    const visit = (depth: number): void => {
      if (aborted) return;
      if ((++nodes & 255) === 0 && performance.now() > this.deadline) {
        aborted = true;
        return;
      }
      if (depth === n) {
        this.consider(cur, this.value(cur));
        return;
      }
      const v = order[depth]!;
      for (const o of optOrder[v]!) {
        cur[v] = o;
        if (bound() < this.bestVal - 1e-9) visit(depth + 1);
        if (aborted) break;
      }
      cur[v] = -1;
    };
    visit(0);
    return !aborted;
  }

  /** Overload penalty (as the evaluator charges it) of the assigned stages alone. */
  private partialPenalty(cur: Int32Array): number {
    const m = this.m;
    const P = this.sc.release;
    if (!(P > 0)) return 0;
    const load = new Float64Array(m.xpus.length);
    let cores = 0;
    for (let v = 0; v < cur.length; v++) {
      if (cur[v]! < 0) continue;
      const o = m.stages[v]!.options[cur[v]!]!;
      const p = this.sc.period[v]! || P;
      const u = o.lat.p50 / p;
      load[o.xpu] += u / m.xpus[o.xpu]!.lanes;
      if (m.xpus[o.xpu]!.usesCores) cores += u;
    }
    let pen = 0;
    for (const u of load) if (u > 1) pen += (u - 1) * 100 * P;
    const c = Number.isFinite(m.cores) ? cores / m.cores : 0;
    if (c > 1) pen += (c - 1) * 100 * P;
    return pen;
  }
}

/**
 * The next-best option for `stage` when its current one failed: the remaining option (not
 * excluded, not on an excluded XPU) that gives the best estimate with every other stage kept.
 */
export function nextBest(m: CostModel, option: ArrayLike<number>, stage: number, excluded: Set<number>, badXpus: Set<number> = new Set()): number {
  const sc = prepare(m);
  const cur = Int32Array.from(option);
  let best = -1;
  let bestVal = Infinity;
  m.stages[stage]!.options.forEach((o, i) => {
    if (excluded.has(i) || badXpus.has(o.xpu)) return;
    cur[stage] = i;
    const v = estimate(m, cur, sc);
    if (v < bestVal) {
      bestVal = v;
      best = i;
    }
  });
  return best;
}
