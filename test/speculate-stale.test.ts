// Drafts on the shared board: torn and stale drafts are never verified, the usable tail of a
// current one is; a decoupled run into which contradicting drafts are injected discards them
// (counted) and still commits exactly plain decoding's tokens.
import test from 'ava';
import { createBoard, NO_DRAFT, readDraft, STALE, writeDraft } from '../runtime/speculate/board.js';
import { decodePlain } from '../runtime/speculate/engine.js';
import { DraftWorker, decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { jobOf, type History } from '../xnodes/planning/jobs.js';
import { openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, H, T, WINDOW } from '../xnodes/planning/motion.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';

test('board: usable tail, stale when contradicted, nothing while written or when consumed', (t) => {
  const b = createBoard({ rows: 2, window: 10, drafters: 1, ahead: 4, contextDim: 1 });
  b.committed.set([1, 2, 3, 4, 5], 0);
  const out = new Int32Array(4);
  t.is(readDraft(b, 0, 0, 3, 4, out, 0), NO_DRAFT, 'no draft yet');
  writeDraft(b, 0, 0, 3, Int32Array.from([4, 5, 6, 7]), 0, 4);
  t.is(readDraft(b, 0, 0, 5, 4, out, 0), 2, 'two committed as drafted: the tail is usable');
  t.deepEqual([...out.subarray(0, 2)], [6, 7]);
  b.committed[4] = 9;
  t.is(readDraft(b, 0, 0, 5, 4, out, 0), STALE, 'a committed token contradicts the draft');
  t.is(readDraft(b, 0, 0, 7, 4, out, 0), NO_DRAFT, 'consumed');
  Atomics.add(b.meta, 0, 1);
  t.is(readDraft(b, 0, 0, 3, 4, out, 0), NO_DRAFT, 'being written');
});

test.serial('decoupled: injected stale drafts are discarded and counted, the committed prefix only grows, output equals plain', async (t) => {
  const target = await openTarget();
  const hs: History[] = (await trajectories([HELDOUT_SEEDS[1]!], 0.7)).slice(0, 16).map((x) => ({ cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) }));
  const plain = jobOf(hs);
  await decodePlain(plain.job, target);
  const worker = new DraftWorker(['kinematic'], 16, new URL('../xnodes/planning/drafters.ts', import.meta.url).href, {}, T, WINDOW, CONTEXT);
  const job = jobOf(hs).job;
  const before = new Int32Array(16).fill(H);
  let grew = true;
  const s = await decodeDecoupled(job, target, worker, {
    onRound(b) {
      // Drafting off from here on, so the worker does not overwrite the injected drafts.
      Atomics.store(b.control, 1, 0);
      for (let r = 0; r < 16; r++) {
        grew &&= b.lens[r]! >= before[r]!;
        before[r] = b.lens[r]!;
        // A draft built on a token verification did not commit: stale from the start.
        const c = b.lens[r]!;
        if (c < H + T - 2) writeDraft(b, r, 0, c - 1, Int32Array.from([(b.committed[r * WINDOW + c - 1]! + 1) % 315, 1, 2, 3]), 0, 4);
      }
    },
  });
  await worker.close();
  await target.close();
  t.true(grew, 'committed lengths never shrink');
  t.true(s.drafters.kinematic!.stale > 0, `stale drafts counted (${s.drafters.kinematic!.stale})`);
  t.true(Buffer.from(job.tokens.buffer).equals(Buffer.from(plain.job.tokens.buffer)), 'tokens equal plain decoding');
});
