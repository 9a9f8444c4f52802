// planning/rollout fed as the pipeline feeds it: the tracks every frame, and on its latched
// input whatever drafts planning/draft has made by then (of the previous frame, of this one,
// of an older one, none). The greedy rollouts equal plain decoding's point for point whatever
// the drafts, and every frame's drafts are counted once by what became of them.
import test from 'ava';
import type { PortValues, StageInstance } from '../runtime/xnode/types.js';
import { context, instantiate, sampleInputs, type ContextLog } from '../xnodes/perception-common/fixtures.js';
import { draft, rollout } from '../xnodes/planning/index.js';
import { T } from '../xnodes/planning/motion.js';

interface Rollouts {
  rollouts: Array<{ id: string; k: number; points: Array<{ x: number; y: number }> }>;
}

test.serial('rollout stage: greedy rollouts equal plain decoding with drafts of the previous frame, this frame, stale ones and none; each frame counted once', async (t) => {
  const frames = 24;
  const samples = await sampleInputs(frames, { objects: 8, seed: 3 });
  const make = async (def: typeof draft | typeof rollout, impl: string, log: ContextLog) => instantiate(def.impls.find((i) => i.name === impl)!, context(def, impl, { k: 2 }, log));
  const log = (): ContextLog => ({ counts: {}, logs: [], sections: {} });
  const logs = { spec: log(), plain: log(), draft: log() };
  const drafter: StageInstance = await make(draft, 'model-worker', logs.draft);
  const spec = await make(rollout, 'speculative', logs.spec);
  const plain = await make(rollout, 'plain', logs.plain);
  const made: PortValues['drafts'][] = [];
  // Which drafts the rollout stage holds at frame f: of f - 1 mostly, of f, two frames old, none.
  const held = (f: number) => (f % 7 === 3 ? made[f] : f % 7 === 5 ? made[f - 2] : f === 15 ? undefined : made[f - 1]);
  let compared = 0;
  for (let f = 0; f < frames; f++) {
    const tracks = samples[f]!['tracking/evaluate']!.tracks;
    const frame = { seq: f, t0: 0 };
    made[f] = (await drafter.process({ tracks }, frame))!.drafts;
    const a = (await spec.process({ tracks, drafts: held(f) }, frame))!.rollouts as Rollouts;
    const b = (await plain.process({ tracks }, frame))!.rollouts as Rollouts;
    t.deepEqual(a.rollouts.map((r) => r.id), b.rollouts.map((r) => r.id));
    for (let i = 0; i < b.rollouts.length; i++) {
      // The first T points: the greedy rollout.
      t.deepEqual(a.rollouts[i]!.points.slice(0, T), b.rollouts[i]!.points.slice(0, T), `frame ${f}, agent ${b.rollouts[i]!.id}`);
      compared++;
    }
  }
  for (const s of [drafter, spec, plain]) {
    await s.finish?.();
    await s.close?.();
  }
  t.true(compared > 20, `${compared} greedy rollouts compared`);
  const q = logs.spec.sections.rollout as Record<string, number>;
  t.log(q);
  t.is(q.drafts_fresh + q.drafts_stale + q.drafts_missing, q.frames_rolled_out, 'every frame rolled out counted once');
  t.true(q.drafts_fresh > 0 && q.drafts_stale > 0 && q.drafts_missing > 0, 'fresh, stale and missing drafts all seen');
  t.true(q.rows_drafted > 0 && q.rows_planned > 0);
  t.true(q.target_calls < q.plain_calls, 'fewer target calls than plain decoding');
});
