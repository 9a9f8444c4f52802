// Drafts carried over from an earlier frame (the pipeline's decoupled drafting): the draft
// stage's drafts of frame f verify frame f + 1 one step on, older ones are discarded, agents
// without one are served inline, the previous plan drafts too; greedy output stays byte for
// byte plain decoding's whatever the drafts, sampled output keeps the target's distribution.
import test from 'ava';
import { decodePlain } from '../runtime/speculate/engine.js';
import { decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { GivenDrafter } from '../runtime/speculate/drafters.js';
import { PredraftSource } from '../runtime/speculate/predraft.js';
import { CARRIED, PreviousPlan, StageDrafts } from '../xnodes/planning/carry.js';
import type { RolloutDrafts } from '../xnodes/planning/draft-stage.js';
import { createDrafters } from '../xnodes/planning/drafters.js';
import { GREEDY, jobOf, type History } from '../xnodes/planning/jobs.js';
import { Histories } from '../xnodes/planning/history.js';
import { ensureRolloutModels, OrtWindowModel, openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, DRAFT_WINDOW, H, T, VOCAB, WINDOW } from '../xnodes/planning/motion.js';
import { WholeDrafter } from '../xnodes/planning/predraft.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';
import { critical, tokenCounts, twoSample } from './_chi2.js';

const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const stamp = (ms: number) => ({ stamp: { sec: Math.floor(ms / 1000), nanosec: Math.round((ms % 1000) * 1e6) }, frame_id: 'base_link' });

/** Histories of the same agents at two consecutive frames (f: positions 0..H, f + 1: 1..H + 1). */
async function consecutive(): Promise<{ before: History[]; after: History[] }> {
  const trs = await trajectories(HELDOUT_SEEDS.slice(0, 1), 0.1, 8);
  return {
    before: trs.map((x) => ({ cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) })),
    after: trs.map((x) => ({ cls: x.cls, xs: x.xs.subarray(1, H + 2), ys: x.ys.subarray(1, H + 2) })),
  };
}

/** A draft stage message of `agents` agents (ids a0, a1, ..), k rollouts each, T tokens per row numbered row * 1000 + step, with distributions. */
function message(ms: number, agents: number, k: number): RolloutDrafts {
  const tokens = Int32Array.from({ length: agents * k * T }, (_, i) => Math.floor(i / T) * 1000 + (i % T));
  const width = 2;
  const q = { width, idx: Int32Array.from({ length: tokens.length * width }, (_, e) => tokens[Math.floor(e / width)]! + (e % width)), val: new Float32Array(tokens.length * width).fill(0.5) };
  return { header: stamp(ms), ids: Array.from({ length: agents }, (_, i) => `a${i}`), k, drafts: { ahead: T, tokens, q }, ms: 1 };
}

test('draft stage drafts: of the previous frame one step on, of this frame as they are; older or from a later frame discarded; missing agents undrafted', (t) => {
  const ids = ['a2', 'x', 'a0'];
  const job = { rows: 6, prompt: H, steps: T, tokens: new Int32Array(6 * WINDOW), context: new Float32Array(6 * CONTEXT), sampling: GREEDY, seed: 1 };
  const carry = new StageDrafts(16);
  const m = message(1000, 3, 3);
  for (const [ms, shift] of [[1100, 1], [1000, 0]] as const) {
    const { fate, drafts } = carry.load(m, ms, ids, job, 2, true);
    t.is(fate, 'fresh');
    // Agent a2 (sampled draft rows 7, 8), x: none, a0 (sampled draft rows 1, 2).
    t.deepEqual([...carry.map.subarray(0, 6)], [7, 8, -1, -1, 1, 2]);
    for (const row of [0, 1, 4, 5]) {
      const r = carry.map[row]!;
      for (const pos of [H, H + 7, H + CARRIED - 1]) {
        // The token a row's draft proposes at position pos, and its distribution's entries (as PredraftSource reads them).
        t.is(drafts!.tokens[r * drafts!.ahead + pos - H], r * 1000 + pos - H + shift, `row ${row} pos ${pos} shift ${shift}`);
        t.is(drafts!.q!.idx[(r * drafts!.ahead + pos - H) * 2 + 1], r * 1000 + pos - H + shift + 1);
      }
    }
  }
  t.is(carry.load(m, 1200, ids, job, 2, true).fate, 'stale', 'two frames old: discarded');
  t.deepEqual([...carry.map.subarray(0, 6)], [-1, -1, -1, -1, -1, -1]);
  t.is(carry.load(m, 900, ids, job, 2, true).fate, 'stale', 'of a later frame: discarded');
  t.is(carry.load(undefined, 1100, ids, job, 2, true).fate, 'missing');
  const greedy = carry.load(m, 1100, ids, { ...job, rows: 3 }, 1, false);
  t.is(greedy.fate, 'fresh');
  t.deepEqual([...carry.map.subarray(0, 3)], [6, -1, 0], 'greedy job: the greedy row of each agent');
  t.is(greedy.drafts!.q, undefined, 'greedy drafts: no distributions');
});

test('previous plan: the last frame\'s committed rollouts, one step on; none from this frame or two frames back', (t) => {
  const plan = new PreviousPlan(3);
  const job = { rows: 4, prompt: H, steps: T, tokens: Int32Array.from({ length: 4 * WINDOW }, (_, i) => i), context: new Float32Array(4 * CONTEXT), sampling: GREEDY, seed: 1 };
  plan.remember(1000, ['a', 'b'], job, 2, true);
  plan.remember(1000, ['a', 'b'], { ...job, rows: 2 }, 1, false);
  const d = new GivenDrafter('previous', 8, CARRIED, H);
  t.is(plan.load(1100, ['b', 'c', 'a'], 2, true, d), 4);
  t.deepEqual([...d.has.subarray(0, 6)], [1, 1, 0, 0, 1, 1]);
  // Agent b's first sampled rollout was job row 2: its token of step s + 1 drafts step s.
  t.is(d.tokens[0], 2 * WINDOW + H + 1);
  t.is(d.tokens[CARRIED - 1], 2 * WINDOW + H + T - 1);
  t.is(d.tokens[5 * CARRIED], 1 * WINDOW + H + 1, "agent a's second sampled rollout");
  t.is(plan.load(1100, ['a'], 1, false, d), 1);
  t.is(d.tokens[0], H + 1, 'greedy: job row 0');
  t.is(plan.load(1000, ['a'], 1, false, d), 0, 'a plan of this frame is no draft of it');
  t.is(plan.load(1200, ['a'], 1, false, d), 0, 'two frames old: discarded');
  // The drafter proposes from the committed length on, and nothing for rows without a plan.
  plan.load(1100, ['a', 'z'], 1, false, d);
  const b = { count: 2, rows: Int32Array.of(0, 1), lens: Int32Array.of(H + 3, H), ks: Int32Array.of(4, 4), tokens: new Int32Array(0), window: WINDOW, context: new Float32Array(0), out: new Int32Array(8), stride: 4 };
  d.propose(b);
  t.deepEqual([...b.ks], [4, 0]);
  t.deepEqual([...b.out.subarray(0, 4)], [H + 4, H + 5, H + 6, H + 7]);
});

test.serial('greedy: decoupled drafting (the draft stage\'s drafts of the previous frame, the previous plan, inline drafters) equals plain decoding at batch 1, 16 and 64, also with wrong drafts', async (t) => {
  const target = await openTarget();
  const drafter = new WholeDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW));
  const { before, after } = await consecutive();
  const source = new PredraftSource('model', 64, WINDOW, CONTEXT, T);
  const carry = new StageDrafts(64);
  const previous = new GivenDrafter('previous', 64, CARRIED, H);
  try {
    for (const rows of [1, 16, 64]) {
      const ids = Array.from({ length: rows }, (_, i) => `a${i}`);
      // Frame f: the draft stage drafts one step further; the rollout stage's plan is plain decoding's.
      const f = jobOf(before.slice(0, rows));
      await decodePlain(f.job, target);
      const plan = new PreviousPlan(1);
      plan.remember(1000, ids, f.job, 1, false);
      const dj = jobOf(before.slice(0, rows));
      dj.job.steps = T + 1;
      const good: RolloutDrafts = { header: stamp(1000), ids, k: 1, drafts: await drafter.draft(dj.job, 0), ms: 0 };
      // Wrong drafts: random tokens, and drafts of other agents.
      const noise: RolloutDrafts = { ...good, drafts: { ahead: T, tokens: Int32Array.from(good.drafts.tokens, (_, i) => (i * 7919) % VOCAB) } };
      const swapped: RolloutDrafts = { ...good, ids: [...ids].reverse() };
      const plain = jobOf(after.slice(0, rows));
      await decodePlain(plain.job, target);
      for (const [name, msg] of [['draft stage', good], ['random tokens', noise], ['other agents', swapped], ['none', undefined]] as const) {
        const j = jobOf(after.slice(0, rows));
        const got = carry.load(msg, 1100, ids, j.job, 1, false);
        t.is(got.fate, msg ? 'fresh' : 'missing');
        source.load(got.drafts, carry.map.subarray(0, rows));
        t.is(plan.load(1100, ids, 1, false, previous), rows);
        const s = await decodeDecoupled(j.job, target, source, { use: ['model'], inline: [previous, ...(await createDrafters(['kinematic', 'ngram'], { rows }))] });
        t.true(bytes(j.job.tokens).equals(bytes(plain.job.tokens)), `${name}, batch ${rows}`);
        t.true(s.calls <= T, `${name}, batch ${rows}: never more target calls than plain decoding`);
        if (name === 'draft stage') t.true(s.drafters.model!.accepted.some((a) => a > 0), `batch ${rows}: the carried drafts were accepted`);
      }
    }
  } finally {
    await drafter.model.close();
    await target.close();
  }
});

test.serial('sampled: rollouts verified against the draft stage\'s drafts of the previous frame (with their distributions) and the previous plan (one-hot) have plain sampling\'s token distribution', async (t) => {
  const target = await openTarget();
  const drafter = new WholeDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW));
  const { before, after } = await consecutive();
  const i = Math.max(0, before.findIndex((h) => h.cls === 1));
  const agents = 150;
  const k = 3;
  const rows = agents * (k - 1);
  const sampling = { temperature: 1.5, topK: 8 };
  const ids = Array.from({ length: agents }, (_, a) => `a${a}`);
  // Frame f: the draft stage's drafts (greedy and sampled in one job, its own draws), and the rollouts this stage sampled then.
  const dj = jobOf(Array.from({ length: agents }, () => before[i]!), k, sampling, 3).job;
  dj.steps = T + 1;
  const msg: RolloutDrafts = { header: stamp(1000), ids, k, drafts: await drafter.draft(dj, 11, k), ms: 0 };
  const f = jobOf(Array.from({ length: agents }, () => before[i]!), k - 1, sampling, 5);
  await decodePlain(f.job, target);
  const plan = new PreviousPlan(k);
  plan.remember(1000, ids, f.job, k - 1, true);
  // Frame f + 1, plain and speculative (other seeds: independent draws).
  const plain = jobOf(Array.from({ length: agents }, () => after[i]!), k - 1, sampling, 7);
  await decodePlain(plain.job, target);
  const spec = jobOf(Array.from({ length: agents }, () => after[i]!), k - 1, sampling, 9);
  const carry = new StageDrafts(rows);
  const got = carry.load(msg, 1100, ids, spec.job, k - 1, true);
  t.is(got.fate, 'fresh');
  t.truthy(got.drafts!.q, 'sampled drafts carry their distributions');
  const source = new PredraftSource('model', rows, WINDOW, CONTEXT, T);
  source.load(got.drafts, carry.map.subarray(0, rows));
  const previous = new GivenDrafter('previous', rows, CARRIED, H);
  t.is(plan.load(1100, ids, k - 1, true, previous), rows);
  const s = await decodeDecoupled(spec.job, target, source, { use: ['model'], inline: [previous] });
  t.true(s.drafters.model!.accepted.some((a) => a > 0), 'carried drafts accepted');
  for (const step of [0, 1, 3, 10]) {
    // Two-sample chi-square on the tokens both runs drew at this step.
    const { x, df } = twoSample(tokenCounts(plain.job.tokens, rows, H + step), tokenCounts(spec.job.tokens, rows, H + step));
    t.true(df >= 1, `step ${step}: more than one token drawn`);
    t.true(x < critical(Math.max(df, 1)), `step ${step}: chi2 ${x.toFixed(1)} with ${df} df`);
  }
  await drafter.model.close();
  await target.close();
});

test('histories: a skipped frame starts a track over; the draft stage fills up to `fill` skipped frames in on the straight line', (t) => {
  const strict = new Histories();
  const filled = new Histories(2);
  let a;
  let b;
  for (let f = 0; f < H + 1; f++) {
    if (f === 5 || f === 6) continue; // two frames skipped
    a = strict.add('t', f * 100, f, -f);
    b = filled.add('t', f * 100, f, -f);
  }
  t.is(a, undefined, 'strict: started over at the gap');
  t.truthy(b, 'filled: a full history');
  t.deepEqual([...b!.xs], Array.from({ length: H + 1 }, (_, f) => f));
  t.deepEqual([...b!.ys], Array.from({ length: H + 1 }, (_, f) => -f));
  for (let f = H + 1; f < H + 4; f++) filled.add('t', f * 100, f, 0);
  t.is(filled.add('t', (H + 8) * 100, 0, 0), undefined, 'more skipped frames than `fill`: started over');
});
