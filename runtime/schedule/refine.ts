// The planner's refinement on the full simulation: the simulated cost of an assignment (the
// objective the simulator measures) and first-improvement descent on it from the best
// candidates of the fast search and from plans that gather stages on one XPU. Paced stages'
// tick lateness (ticks.ts) is a constraint on that descent: it ranks before the cost.
import { performance } from 'node:perf_hooks';
import { loads, prepare, priorities, upwardRank, type EvalScratch } from './evaluate.js';
import { pipelinePeriod, type Assignment, type CostModel } from './model.js';
import { simulate } from './simulate.js';
import { better, pacedStages, tickExcess, type Score } from './ticks.js';

/**
 * The simulated cost of an assignment: mean end-to-end latency (from when each frame was due)
 * over the frames that reach the sinks or end where they trigger nothing further, plus two
 * periods for every frame that never does (a plan must not look fast by dropping frames).
 */
export function simulatedCost(m: CostModel, option: ArrayLike<number>, sc: EvalScratch = prepare(m), frames = 24): number {
  return simulatedScore(m, option, sc, frames).cost;
}

/** The simulated cost of an assignment and its paced stages' excess tick lateness (0 without paced stages). */
export function simulatedScore(m: CostModel, option: ArrayLike<number>, sc: EvalScratch = prepare(m), frames = 24): Score {
  const prio = priorities(m, upwardRank(m, sc, option));
  const a = { option: Array.from(option), priority: prio };
  // Frames end at the sinks and where they trigger nothing further (read only through latched inputs).
  const ends: number[] = [];
  for (let v = 0; v < m.stages.length; v++) if (!m.stages[v]!.sink && sc.sink[v]) ends.push(v);
  const r = simulate(m, a, { frames, warmup: 3, ends });
  // Each end counts by its weight (endWeights: the launch's priorities first).
  let expected = 0;
  for (const v of m.sinks) expected += sc.weight[v]! * (frames - 3);
  for (const v of ends) expected += sc.weight[v]! * (frames - 3);
  let n = 0;
  let sum = 0;
  for (const [v, s] of [...r.e2eBySink, ...r.ends]) {
    n += sc.weight[v]! * s.count;
    sum += s.count ? sc.weight[v]! * s.mean * s.count : 0;
  }
  const got = Math.min(expected, n);
  const P = pipelinePeriod(m) || 100;
  // Counted from when frames were due: a plan must not look fast by delaying source ticks.
  const mean = got ? sum / n : Infinity;
  const ld = loads(m, sc, option);
  const over = Math.max(0, ld.cores - 1, ...ld.xpu.map((u) => u - 1));
  return { over, excess: pacedExcess(m, a), cost: mean + (2 * P * (expected - got)) / Math.max(1, expected) };
}

/**
 * Paced stages' excess tick lateness under `a`, on a run of its own: every timer at its rate for
 * 16 of the slowest timer's periods (timers of different periods meet in every combination
 * over their common multiple; a run of so many frames per source would stop the faster ones
 * first), run times drawn from their measured spread (seeded): a tick that falls in a gap as
 * wide as the median runs leave is late as soon as one of them runs long.
 */
export function pacedExcess(m: CostModel, a: Assignment): number {
  return pacedLateness(m, a).excess;
}

/** Per paced stage its worst tick lateness (ms), and their sum beyond the slack, as pacedExcess runs it. */
export function pacedLateness(m: CostModel, a: Assignment): { late: number[]; excess: number } {
  const paced = pacedStages(m);
  if (paced.length === 0) return { late: [], excess: 0 };
  const slowest = Math.max(...m.stages.map((s) => ((s.inputs.length === 0 || s.timer) && s.periodMs > 0 ? s.periodMs : 0)));
  return tickExcess(m, simulate(m, a, { durationMs: 16 * slowest, warmup: 3, sample: true, seed: 1 }), paced);
}

/**
 * Per XPU, `base` with every stage that can run there moved to its fastest option there; and
 * `base` with every stage that can leave the event loop moved to its fastest option elsewhere.
 * Single moves from the estimate's best rarely reach these: moving one stage off the event loop
 * gains little while the loop stays busy with the others, moving them all can gain much.
 */
export function gathered(m: CostModel, base: Int32Array): Int32Array[] {
  const out: Int32Array[] = [];
  const move = (fits: (x: number) => boolean) => {
    const o = base.slice();
    let moved = false;
    m.stages.forEach((s, v) => {
      let best = -1;
      s.options.forEach((op, i) => {
        if (fits(op.xpu) && (best < 0 || op.lat.p50 < s.options[best]!.lat.p50)) best = i;
      });
      if (best >= 0 && best !== o[v]) (o[v] = best), (moved = true);
    });
    if (moved) out.push(o);
  };
  for (let x = 0; x < m.xpus.length; x++) move((y) => y === x);
  const loop = m.xpus.findIndex((x) => x.eventLoop);
  if (loop >= 0) move((y) => y !== loop);
  return out;
}

/**
 * First-improvement descent on the simulated score (paced stages on time first, then the cost)
 * from each start, the best first, each with an equal share of the time left (a first descent
 * must not use it all: the starts differ most where single moves do not lead from one to
 * another); the best found, or undefined.
 */
export function refineBySimulation(m: CostModel, sc: EvalScratch, candidates: Int32Array[], deadline: number): Int32Array | undefined {
  let best: Int32Array | undefined;
  let bestVal: Score = { over: Infinity, excess: Infinity, cost: Infinity };
  const memo = new Map<string, Score>();
  const score = (o: Int32Array) => {
    const k = o.join(',');
    let v = memo.get(k);
    if (v === undefined) memo.set(k, (v = simulatedScore(m, o, sc)));
    return v;
  };
  const order = (a: Score, b: Score) => (better(a, b, 0) ? -1 : better(b, a, 0) ? 1 : 0);
  const starts = candidates.map((o) => ({ o, v: score(o) })).sort((a, b) => order(a.v, b.v)).map((e) => e.o);
  // With paced stages, moving one of them is tried first: it decides most about their ticks.
  const paced = new Set(pacedStages(m));
  const visit = [...m.order].sort((a, b) => Number(paced.has(b)) - Number(paced.has(a)));
  for (const [i, start] of starts.entries()) {
    const cur = start.slice();
    let curVal = score(cur);
    let improved = true;
    const now = performance.now();
    const until = now + (deadline - now) / (starts.length - i);
    while (improved && performance.now() < until) {
      improved = false;
      for (const v of visit) {
        const keep = cur[v]!;
        for (let o = 0; o < m.stages[v]!.options.length && !improved; o++) {
          if (o === keep) continue;
          cur[v] = o;
          const nv = score(cur);
          if (better(nv, curVal)) {
            curVal = nv;
            improved = true;
          } else cur[v] = keep;
        }
        if (performance.now() > until) break;
      }
    }
    if (better(curVal, bestVal, 0) || !best) {
      bestVal = curVal;
      best = cur.slice();
    }
    if (performance.now() > deadline) break;
  }
  return best;
}
