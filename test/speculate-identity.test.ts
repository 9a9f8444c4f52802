// Greedy speculative rollout equals plain decoding byte for byte, for every drafter and batch
// size, coupled and decoupled; and the two properties of the target that make it so: a row's
// floats depend neither on the other rows of the call nor on tokens after the position.
import test from 'ava';
import { decodeCoupled, decodePlain } from '../runtime/speculate/engine.js';
import { DraftWorker, decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { createDrafters, DRAFTERS } from '../xnodes/planning/drafters.js';
import { jobOf, type History } from '../xnodes/planning/jobs.js';
import { openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, H, T, VOCAB, WINDOW } from '../xnodes/planning/motion.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';

const FACTORY = new URL('../xnodes/planning/drafters.ts', import.meta.url).href;
const histories: History[] = (await trajectories(HELDOUT_SEEDS.slice(0, 2), 0.7)).map((t) => ({ cls: t.cls, xs: t.xs.subarray(0, H + 1), ys: t.ys.subarray(0, H + 1) }));
const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test.serial('the target is shape-invariant: a row gives the same floats in any batch and whatever follows its position', async (t) => {
  const target = await openTarget();
  const rows = 64;
  const { job } = jobOf(histories.slice(0, rows));
  const tok = new BigInt64Array(rows * WINDOW);
  for (let i = 0; i < tok.length; i++) tok[i] = BigInt((i * 7919) % VOCAB);
  const full = await target.run(tok, job.context, rows, true);
  for (const [n, off] of [[1, 0], [3, 5], [16, 40], [63, 1]] as const) {
    const sub = await target.run(tok.slice(off * WINDOW, (off + n) * WINDOW), job.context.slice(off * CONTEXT, (off + n) * CONTEXT), n, true);
    t.true(Buffer.from(sub.logits!.buffer, sub.logits!.byteOffset, sub.logits!.byteLength).equals(Buffer.from(full.logits!.buffer, full.logits!.byteOffset + off * WINDOW * VOCAB * 4, n * WINDOW * VOCAB * 4)), `rows ${off}..${off + n}`);
  }
  const changed = tok.slice();
  for (let r = 0; r < rows; r++) for (let p = 20; p < WINDOW; p++) changed[r * WINDOW + p] = 0n;
  const after = await target.run(changed, job.context, rows, true);
  let same = true;
  for (let r = 0; r < rows; r++) for (let i = 0; i < 20 * VOCAB; i++) same &&= after.logits![r * WINDOW * VOCAB + i] === full.logits![r * WINDOW * VOCAB + i];
  t.true(same, 'positions before 20 unchanged when tokens from 20 on change');
  await target.close();
});

test.serial('greedy: every drafter, coupled and decoupled, at batch 1, 16, 64 and 256 equals plain decoding', async (t) => {
  const target = await openTarget();
  const worker = new DraftWorker([...DRAFTERS], 256, FACTORY, {}, T, WINDOW, CONTEXT);
  try {
    for (const rows of [1, 16, 64, 256]) {
      const hs = Array.from({ length: rows }, (_, i) => histories[i % histories.length]!);
      const plain = jobOf(hs);
      await decodePlain(plain.job, target);
      for (const name of DRAFTERS) {
        const coupled = jobOf(hs);
        const [d] = await createDrafters([name], { rows });
        await decodeCoupled(coupled.job, target, d!, 4);
        await d!.close?.();
        t.true(bytes(coupled.job.tokens).equals(bytes(plain.job.tokens)), `coupled ${name}, batch ${rows}`);
        const dec = jobOf(hs);
        await decodeDecoupled(dec.job, target, worker, { use: [name] });
        t.true(bytes(dec.job.tokens).equals(bytes(plain.job.tokens)), `decoupled ${name}, batch ${rows}`);
        if (name === 'model') continue;
        const inl = jobOf(hs);
        await decodeDecoupled(inl.job, target, worker, { use: [], inline: await createDrafters([name], { rows }) });
        t.true(bytes(inl.job.tokens).equals(bytes(plain.job.tokens)), `inline ${name}, batch ${rows}`);
      }
      const dyn = jobOf(hs);
      const s = await decodeDecoupled(dyn.job, target, worker, { use: ['model'], inline: await createDrafters(['kinematic', 'ngram', 'random'], { rows }) });
      t.true(bytes(dyn.job.tokens).equals(bytes(plain.job.tokens)), `dynamic, batch ${rows}`);
      t.true(s.calls <= T, 'never more target calls than plain decoding');
    }
  } finally {
    await worker.close();
    await target.close();
  }
});
