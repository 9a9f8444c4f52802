// Timer phases: where in its period each timer releases. Timers of one period that share an
// origin all become ready at the same instant, and the callbacks they start queue behind each
// other on the XPUs and cores they share; the frame that waits longest sets the path's worst
// latency. The planner keeps every rate and chooses only the phases, by coordinate descent on
// the simulation (the dispatch core on virtual time, the same one the executor runs): each
// timer in turn, most important first, tries offsets on a grid within its period and keeps
// the one that lowers the cost. The cost weighs each end's mean and worst latency by its
// launch priority (endWeights), counted from when each frame was due, so a phase cannot hide
// a wait by delaying a tick. A phase may not make any timer tick later than it ticked with
// every timer in phase: a timer-driven stage's period (the reference's Behavior Planner) is a
// figure of its own, and trading its jitter for an end's latency is not a gain. Paced stages'
// ticks beyond their slack (ticks.ts) rank before the cost: a phase that brings them on time
// is taken first, whatever it costs the ends.
import { performance } from 'node:perf_hooks';
import type { EvalScratch } from './evaluate.js';
import { pipelinePeriod, type Assignment, type CostModel } from './model.js';
import { simulate } from './simulate.js';
import { pacedExcess } from './refine.js';
import { better, lessLate } from './ticks.js';

export interface PhaseOptions {
  /** Offsets tried per timer: its period split in this many steps (default 16). */
  steps?: number;
  /** Simulated run (ms; default 12 of the slowest timer's periods). */
  horizonMs?: number;
  /** Wall-clock deadline (performance.now()) for the search. */
  deadline?: number;
}

/** Stages the source clock ticks at a fixed period: sources and timer-driven stages. */
export function timedStages(m: CostModel): number[] {
  const out: number[] = [];
  m.stages.forEach((s, v) => {
    if ((s.inputs.length === 0 || s.timer) && s.periodMs > 0) out.push(v);
  });
  return out;
}

/**
 * The phase cost of assignment `a`: per end (sinks, and stages whose frames trigger nothing
 * further), its mean plus its worst latency, weighted by the end's weight; two periods for each
 * expected frame that never arrived (a phase must not look good by losing frames); per timed
 * stage its worst tick lateness (ms from due to start); and the paced stages' lateness beyond
 * their slack (pacedExcess: on run times drawn from their spread).
 */
export function phaseCost(m: CostModel, sc: EvalScratch, a: Assignment, horizonMs: number): { cost: number; late: number[]; excess: number } {
  const ends: number[] = [];
  for (let v = 0; v < m.stages.length; v++) if (!m.stages[v]!.sink && sc.sink[v]) ends.push(v);
  const warmup = 3;
  const r = simulate(m, a, { durationMs: horizonMs, warmup, ends });
  const P = pipelinePeriod(m) || 100;
  // Frames an end could see at most: the fastest timer's after the warm-up. Only differences
  // between phases matter, so an upper bound serves: the penalty is linear in what arrived.
  const fastest = Math.min(...timedStages(m).map((v) => m.stages[v]!.periodMs));
  const want = Math.max(0, Math.floor(horizonMs / fastest) - warmup);
  let wsum = 0;
  let cost = 0;
  let lost = 0;
  let expected = 0;
  for (const v of [...m.sinks, ...ends]) {
    const w = sc.weight[v]!;
    const s = r.e2eBySink.get(v) ?? r.ends.get(v);
    expected += w * want;
    lost += w * Math.max(0, want - (s?.count ?? 0));
    if (!s || s.count === 0) continue;
    wsum += w;
    cost += w * (s.mean + s.max);
  }
  const late = timedStages(m).map((v) => (r.stages[v]!.late.count ? r.stages[v]!.late.max : 0));
  return { cost: (wsum ? cost / wsum : Infinity) + (2 * P * lost) / Math.max(1, expected), late, excess: pacedExcess(m, a) };
}

/** Tick lateness (ms) a phase may add to a timer over the in-phase run: sampling noise. */
const LATE_SLACK_MS = 0.25;

/**
 * Phases for the timers of assignment `a` (its options and priorities kept), or undefined when
 * no offset lowers the phase cost (or fewer than two timers run at a period).
 */
export function planPhases(m: CostModel, sc: EvalScratch, a: Assignment, opts: PhaseOptions = {}): number[] | undefined {
  const timed = timedStages(m);
  if (timed.length < 2) return undefined;
  const steps = opts.steps ?? 16;
  const horizon = opts.horizonMs ?? 12 * Math.max(...timed.map((v) => m.stages[v]!.periodMs));
  const deadline = opts.deadline ?? performance.now() + 400;
  const phase = new Array<number>(m.stages.length).fill(0);
  const run = () => phaseCost(m, sc, { ...a, phase }, horizon);
  const start = run();
  let best = { excess: start.excess, cost: start.cost };
  const keepsTicks = (late: number[]) => late.every((l, i) => l <= start.late[i]! + LATE_SLACK_MS);
  // The timers whose frames weigh most first: their phase frees the others' choices.
  const order = [...timed].sort((x, y) => sc.weight[y]! - sc.weight[x]! || x - y);
  for (let pass = 0; pass < 2; pass++) {
    let improved = false;
    for (const v of order) {
      const period = m.stages[v]!.periodMs;
      const keep = phase[v]!;
      let bestPhase = keep;
      for (let k = 0; k < steps; k++) {
        const p = (k * period) / steps;
        if (p === keep) continue;
        phase[v] = p;
        const r = run();
        // On time first; as on time, a lower cost that makes no timer tick later.
        if (better(r, best) && (lessLate(r, best) || keepsTicks(r.late))) {
          best = { excess: r.excess, cost: r.cost };
          bestPhase = p;
          improved = true;
        }
        if (performance.now() > deadline) break;
      }
      phase[v] = bestPhase;
      if (performance.now() > deadline) break;
    }
    if (!improved || performance.now() > deadline) break;
  }
  return better(best, start) && phase.some((p) => p > 0) ? phase : undefined;
}
