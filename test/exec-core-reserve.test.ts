// Paced ticks keep their XPU (runtime/exec/core/reserve.ts), on virtual time: a job that would
// run across the tick of a higher-priority paced stage on its XPU waits for the tick, a shorter
// one that fits before it runs meanwhile, and nothing waits past the tick or hangs a run.
import test from 'ava';
import type { CostModel } from '../runtime/schedule/model.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on, pace } from '../runtime/schedule/synthetic.js';

/**
 * One worker lane shared by an 8 ms job and a 1 ms job, both released by a 20 ms source at
 * 0, 20, ..., and a 20 ms paced tick due 4 ms into each cycle, ranked first.
 */
function lane(): { m: CostModel; a: { option: number[]; priority: number[]; phase: number[] } } {
  const m = model(
    [{ id: 'main', eventLoop: true }, { id: 'cpu' }],
    [
      { name: 'src', cost: { main: 0.05 }, periodMs: 20 },
      { name: 'long', cost: { cpu: 8 }, from: ['src'] },
      { name: 'src2', cost: { main: 0.05 }, periodMs: 20 },
      { name: 'short', cost: { cpu: 1 }, from: ['src2'] },
      { name: 'tick', cost: { cpu: 1 }, periodMs: 20 },
    ],
  );
  pace(m, 'tick', 'long');
  const option = m.stages.map((s) => on(m, s.name, s.name.startsWith('src') ? 'main' : 'cpu'));
  // `short` ranks below `long`, so it runs only where `long` yields (backfill).
  return { m, a: { option, priority: [0, 2, 0, 1, 5], phase: [0, 0, 0, 0, 4] } };
}

function ticks(m: CostModel, a: { option: number[]; priority: number[]; phase: number[] }, durationMs: number) {
  const idx = (n: string) => m.stages.findIndex((s) => s.name === n);
  const late: number[] = [];
  const starts = new Map<string, number[]>();
  const r = simulate(m, a, {
    durationMs,
    warmup: 0,
    onDispatch: (job, t) => {
      const name = m.stages[job.stage]!.name;
      starts.set(name, [...(starts.get(name) ?? []), t]);
      if (job.stage === idx('tick')) late.push(t - job.frame.t0);
    },
  });
  return { r, late, starts };
}

test('reserve: a job that would run across a higher-priority paced tick waits for it; a shorter one runs meanwhile', (t) => {
  const { m, a } = lane();
  const { r, late, starts } = ticks(m, a, 200);
  // The first cycle: `long` has not run yet (its time unknown), so the tick at 4 waits for it.
  t.true(late[0]! > 3, `first tick late by ${late[0]}`);
  for (const [k, l] of late.entries()) if (k >= 1) t.true(l < 1e-6, `tick ${k} late by ${l} ms`);
  // From the second cycle on, `long` starts after each tick (at 4 + 1 = 5 into the cycle),
  // and `short`, released with it, runs in the 4 ms before the tick instead of after `long`.
  const cycle = (x: number) => x % 20;
  for (const s of starts.get('long')!.slice(1)) t.true(Math.abs(cycle(s) - 5) < 1e-6, `long starts ${cycle(s)} ms into its cycle`);
  for (const s of starts.get('short')!.slice(1)) t.true(cycle(s) < 4, `short starts ${cycle(s)} ms into its cycle`);
  t.is(r.overruns, 0);
});

test('reserve: a job ranked above the paced stage never yields to it', (t) => {
  const { m, a } = lane();
  a.priority[1] = 9; // `long` above the tick
  const { late } = ticks(m, a, 200);
  t.true(late.slice(1).every((l) => l > 3), `ticks late by ${late.map((l) => l.toFixed(1)).join(', ')}`);
});

test('reserve: a yield never outlives the run: the sources stop while a job waits for a tick, and the run ends', (t) => {
  const { m, a } = lane();
  // The duration ends at 23, between `long`'s release (20) and the tick it waits for (24).
  const { r, starts } = ticks(m, a, 23);
  t.is(starts.get('long')!.length, 2, 'the waiting job still ran');
  t.is(r.stages[1]!.runs, 2);
});
