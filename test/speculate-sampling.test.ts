// Sampled speculative decoding keeps the target's distribution: rejection sampling against a
// drafter distribution or a one-hot draft, checked by chi-square over many draws (fixed seeds,
// so the test cannot flake), and end to end on the rollout model.
import test from 'ava';
import { mulberry32 } from '../runtime/util/random.js';
import { decodeCoupled, decodePlain } from '../runtime/speculate/engine.js';
import { sampledScratch, verifySampled } from '../runtime/speculate/verify.js';
import { RandomDrafter } from '../runtime/speculate/drafters.js';
import { KinematicDrafter } from '../xnodes/planning/drafters.js';
import { jobOf, type History } from '../xnodes/planning/jobs.js';
import { openTarget } from '../xnodes/planning/model.js';
import { H, WINDOW } from '../xnodes/planning/motion.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';

/** Chi-square statistic and degrees of freedom of counts against expected probabilities (cells with expectation >= 5). */
function chi2(counts: number[], p: number[], n: number): { x: number; df: number } {
  let x = 0;
  let df = -1;
  let restO = 0;
  let restE = 0;
  counts.forEach((c, j) => {
    const e = p[j]! * n;
    if (e >= 5) {
      x += (c - e) ** 2 / e;
      df++;
    } else {
      restO += c;
      restE += e;
    }
  });
  if (restE >= 5) {
    x += (restO - restE) ** 2 / restE;
    df++;
  }
  return { x, df };
}

/** Upper 0.1% point of chi-square (Wilson-Hilferty). */
const critical = (df: number) => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;

test('rejection sampling: the first committed token has the target distribution, with a drafter distribution and one-hot', (t) => {
  const V = 6;
  const logits = new Float32Array(3 * V);
  // Position c - 1 (the first token) and c (after an accepted draft).
  const l0 = [2, 1, 0.5, 0, -1, 0.2];
  const l1 = [0, 0.3, 1.5, -0.5, 0.1, 0.9];
  logits.set(l0, 0);
  logits.set(l1, V);
  const sm = (l: number[]) => {
    const e = l.map((v) => Math.exp(v));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const p0 = sm(l0);
  const qd = [0.05, 0.05, 0.1, 0.5, 0.2, 0.1]; // a bad drafter: mass where the target has little
  const N = 40000;
  for (const mode of ['distribution', 'one-hot'] as const) {
    const rand = mulberry32(mode === 'one-hot' ? 11 : 7);
    const draftRand = mulberry32(99);
    const s = sampledScratch(V);
    const out = new Int32Array(3);
    const counts = new Array(V).fill(0);
    for (let i = 0; i < N; i++) {
      // Draft token drawn from q (for one-hot: the same draws, no distribution given to the verifier).
      let u = draftRand();
      let x = 0;
      while (x < V - 1 && u >= qd[x]!) u -= qd[x++]!;
      const q = mode === 'distribution' ? (_: number, o: Float64Array) => o.set(qd) : null;
      verifySampled(logits, 0, V, 1, [x], 0, 1, { temperature: 1, topK: 0 }, rand, q, s, out);
      counts[out[0]!]++;
    }
    const { x, df } = chi2(counts, p0, N);
    t.true(x < critical(df), `${mode}: chi2 ${x.toFixed(1)} with ${df} df (0.1% point ${critical(df).toFixed(1)})`);
  }
});

test.serial('sampled rollouts: speculative (kinematic and random drafters) and plain give the same token distribution', async (t) => {
  const target = await openTarget();
  const tr = (await trajectories([HELDOUT_SEEDS[0]!], 0.5)).find((x) => x.cls === 1)!;
  const h: History = { cls: tr.cls, xs: tr.xs.subarray(0, H + 1), ys: tr.ys.subarray(0, H + 1) };
  const rows = 300;
  const sampling = { temperature: 1.5, topK: 8 };
  const dist = (tokens: Int32Array, pos: number) => {
    const m = new Map<number, number>();
    for (let r = 0; r < rows; r++) m.set(tokens[r * WINDOW + pos]!, (m.get(tokens[r * WINDOW + pos]!) ?? 0) + 1);
    return m;
  };
  const plain = jobOf(Array.from({ length: rows }, () => h), 1, sampling, 5);
  await decodePlain(plain.job, target);
  for (const [name, drafter] of [['kinematic', new KinematicDrafter()], ['random', new RandomDrafter(315, 3)]] as const) {
    const spec = jobOf(Array.from({ length: rows }, () => h), 1, sampling, 17);
    await decodeCoupled(spec.job, target, drafter, 4);
    for (const step of [0, 1, 3]) {
      // Two-sample chi-square on the tokens both runs drew at this step.
      const a = dist(plain.job.tokens, H + step);
      const b = dist(spec.job.tokens, H + step);
      const keys = [...new Set([...a.keys(), ...b.keys()])];
      let x = 0;
      let df = -1;
      for (const k of keys) {
        const o1 = a.get(k) ?? 0;
        const o2 = b.get(k) ?? 0;
        if (o1 + o2 < 10) continue;
        x += (o1 - o2) ** 2 / (o1 + o2);
        df++;
      }
      t.true(df >= 1, `${name} step ${step}: more than one token drawn`);
      t.true(x < critical(Math.max(df, 1)), `${name} step ${step}: chi2 ${x.toFixed(1)} with ${df} df`);
    }
  }
  await target.close();
});
