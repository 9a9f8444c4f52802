// Exact speculative sampling with the drafter's own distributions (accept with min(1, p / q),
// resample from max(0, p - q), a bonus token when every draft token is accepted), through the
// whole decoding loop: the joint distribution of the committed tokens is the target's
// (chi-square on a Markov-chain target whose exact joint is known, fixed seeds so the test
// cannot flake); on the rollout model, draws match plain sampling; the same seeds give the same
// rollouts, other seeds other rollouts.
import test from 'ava';
import { mulberry32 } from '../runtime/util/random.js';
import { decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { decodePlain } from '../runtime/speculate/engine.js';
import { PredraftSource, type Predrafts } from '../runtime/speculate/predraft.js';
import type { Target } from '../runtime/speculate/types.js';
import { createDrafters } from '../xnodes/planning/drafters.js';
import { jobOf, type History } from '../xnodes/planning/jobs.js';
import { ensureRolloutModels, OrtWindowModel, openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, DRAFT_WINDOW, H, T, WINDOW } from '../xnodes/planning/motion.js';
import { WholeDrafter } from '../xnodes/planning/predraft.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';
import { critical, tokenCounts, twoSample } from './_chi2.js';

const V = 4;
// Target: logits of the next token given the current one (a Markov chain), so the exact joint is known.
const L = [
  [1.2, 0.1, -0.5, 0.4],
  [-0.3, 0.9, 0.6, -1],
  [0.2, -0.8, 1.1, 0.5],
  [0.7, 0.3, -0.2, 0],
];
const softmax = (l: number[]) => {
  const e = l.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const P = L.map(softmax);
// The drafter's chain: close to the target's in places, far in others.
const Q = [
  [0.5, 0.1, 0.1, 0.3],
  [0.1, 0.2, 0.6, 0.1],
  [0.25, 0.25, 0.25, 0.25],
  [0.05, 0.05, 0.1, 0.8],
];

class ChainTarget implements Target {
  readonly vocab = V;
  readonly contextDim = 1;
  constructor(readonly window: number) {}
  async run(tokens: BigInt64Array, _context: Float32Array, rows: number) {
    const W = this.window;
    const logits = new Float32Array(rows * W * V);
    const argmax = new BigInt64Array(rows * W);
    for (let i = 0; i < rows * W; i++) {
      const l = L[Number(tokens[i])]!;
      logits.set(l, i * V);
      argmax[i] = BigInt(l.indexOf(Math.max(...l)));
    }
    return { argmax, logits };
  }
}

/** Drafts of `ahead` tokens per row drawn from the chain Q (and Q handed over, or not). */
function chainDrafts(rows: number, ahead: number, seed: number, withQ: boolean): Predrafts {
  const rand = mulberry32(seed);
  const d: Predrafts = { ahead, tokens: new Int32Array(rows * ahead) };
  if (withQ) d.q = { width: V, idx: new Int32Array(rows * ahead * V), val: new Float32Array(rows * ahead * V) };
  for (let r = 0; r < rows; r++) {
    let prev = 0;
    for (let s = 0; s < ahead; s++) {
      const q = Q[prev]!;
      let u = rand();
      let x = 0;
      while (x < V - 1 && u >= q[x]!) u -= q[x++]!;
      d.tokens[r * ahead + s] = x;
      if (d.q) {
        const at = (r * ahead + s) * V;
        for (let j = 0; j < V; j++) {
          d.q.idx[at + j] = j;
          d.q.val[at + j] = q[j]!;
        }
      }
      prev = x;
    }
  }
  return d;
}

test('speculative sampling with drafter distributions: the joint of four committed tokens is the target chain’s (drafts re-offered past a rejection included)', async (t) => {
  const steps = 4;
  const W = 1 + steps;
  const rows = 20000;
  const target = new ChainTarget(W);
  const exact: number[] = [];
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) for (let c = 0; c < V; c++) for (let e = 0; e < V; e++) exact.push(P[0]![a]! * P[a]![b]! * P[b]![c]! * P[c]![e]!);
  for (const withQ of [true, false]) {
    const src = new PredraftSource('chain', rows, W, 1, steps - 1);
    src.load(chainDrafts(rows, steps - 1, withQ ? 5 : 6, withQ), Int32Array.from({ length: rows }, (_, i) => i));
    const job = { rows, prompt: 1, steps, tokens: new Int32Array(rows * W), context: new Float32Array(rows), sampling: { temperature: 1, topK: 0 }, seed: withQ ? 21 : 22 };
    const s = await decodeDecoupled(job, target, src);
    const counts = new Array(V ** steps).fill(0);
    for (let r = 0; r < rows; r++) {
      let cell = 0;
      for (let s = 1; s <= steps; s++) cell = cell * V + job.tokens[r * W + s]!;
      counts[cell]++;
    }
    // Cells expected under 5 times are pooled into one.
    let x = 0;
    let df = -1;
    let restO = 0;
    let restE = 0;
    exact.forEach((p, i) => {
      if (p * rows >= 5) {
        x += (counts[i]! - p * rows) ** 2 / (p * rows);
        df++;
      } else {
        restO += counts[i]!;
        restE += p * rows;
      }
    });
    if (restE > 0) {
      x += (restO - restE) ** 2 / restE;
      df++;
    }
    const d = s.drafters.chain!;
    t.log(`${withQ ? 'q handed over' : 'one-hot'}: chi2 ${x.toFixed(1)} (${df} df, 0.1% point ${critical(df).toFixed(1)}), acceptance ${(d.accepted.reduce((a, b) => a + b) / d.proposed.reduce((a, b) => a + b)).toFixed(3)}`);
    t.true(x < critical(df), `chi2 ${x.toFixed(1)} with ${df} df`);
    t.true(s.rowCalls.reduce((a, b) => a + b, 0) < rows * steps, 'drafts were accepted (fewer target calls per rollout than plain decoding)');
  }
});

const sampling = { temperature: 1.2, topK: 10 };

async function rolloutSetup(rows: number) {
  const target = await openTarget();
  const drafter = new WholeDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW));
  const tr = (await trajectories([HELDOUT_SEEDS[0]!], 0.5)).find((x) => x.cls === 1)!;
  const h: History = { cls: tr.cls, xs: tr.xs.subarray(0, H + 1), ys: tr.ys.subarray(0, H + 1) };
  const hs = Array.from({ length: rows }, () => h);
  const src = new PredraftSource('model', rows, WINDOW, CONTEXT, T);
  const all = Int32Array.from({ length: rows }, (_, i) => i);
  /** Speculative sampled decoding of the rows with the model's drafts (drawn with draftSeed). */
  const speculate = async (seed: number, draftSeed: number, withQ = true) => {
    const j = jobOf(hs, 1, sampling, seed);
    const d = await drafter.draft(j.job, draftSeed);
    if (!withQ) delete d.q;
    src.load(d, all);
    const s = await decodeDecoupled(j.job, target, src, { inline: await createDrafters(['kinematic', 'ngram'], { rows }) });
    return { tokens: j.job.tokens, stats: s };
  };
  const close = async () => {
    await drafter.model.close();
    await target.close();
  };
  return { target, hs, speculate, close };
}

const acceptance = (s: { accepted: number[]; proposed: number[] }) => s.accepted.reduce((a, b) => a + b) / Math.max(1, s.proposed.reduce((a, b) => a + b));

test.serial('rollout model: sampled speculation with the draft model’s distributions draws what plain sampling draws', async (t) => {
  const rows = 300;
  const { target, hs, speculate, close } = await rolloutSetup(rows);
  const plain = jobOf(hs, 1, sampling, 5);
  await decodePlain(plain.job, target);
  const spec = await speculate(17, 3);
  const oneHot = await speculate(17, 3, false);
  for (const step of [0, 1, 2, 5, 12]) {
    // Two-sample chi-square on the tokens both runs drew at this step.
    const { x, df } = twoSample(tokenCounts(plain.job.tokens, rows, H + step), tokenCounts(spec.tokens, rows, H + step));
    t.true(df >= 1, `step ${step}: more than one token drawn`);
    t.true(x < critical(Math.max(df, 1)), `step ${step}: chi2 ${x.toFixed(1)} with ${df} df`);
  }
  const withQ = acceptance(spec.stats.drafters.model!);
  const without = acceptance(oneHot.stats.drafters.model!);
  t.log(`draft model acceptance: ${withQ.toFixed(3)} with its distributions, ${without.toFixed(3)} as one-hot drafts`);
  t.true(withQ > without, 'handing over q accepts more of the same drafts');
  await close();
});

test.serial('sampled speculation is seed-for-seed deterministic: the same seeds give the same rollouts, another seed others', async (t) => {
  const { speculate, close } = await rolloutSetup(64);
  const a = await speculate(9, 4);
  const b = await speculate(9, 4);
  const c = await speculate(10, 4);
  const same = (x: Int32Array, y: Int32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  t.true(same(a.tokens, b.tokens), 'same verifier and drafter seeds: byte-identical rollouts');
  t.false(same(a.tokens, c.tokens), 'another verifier seed: other rollouts');
  t.is(a.stats.calls, b.stats.calls);
  await close();
});
