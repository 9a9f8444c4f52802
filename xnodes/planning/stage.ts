// The rollout stage: per frame, tracks -> histories -> a job of k rollouts per agent ->
// decoding (speculative, with whatever drafts are current: the draft stage's latest, made
// from the previous frame on another XPU, this stage's own previous plan, and the cheap
// drafters inline; or plain) -> xauto_msgs/msg/TrajectoryRolloutArray.
import { CONTEXT, DT, H, T, WINDOW } from './motion.js';
import { decodePlain } from '../../runtime/speculate/engine.js';
import { decodeDecoupled } from '../../runtime/speculate/decoupled.js';
import { PredraftSource } from '../../runtime/speculate/predraft.js';
import type { RunStats } from '../../runtime/speculate/stats.js';
import type { Drafter, RolloutJob } from '../../runtime/speculate/types.js';
import type { ImplContext, StageInstance } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import { stampKey, type GroundTruth } from '../perception-common/messages.js';
import type { Detection3DArray } from '../tracking/ros.js';
import { agentsOf, Histories, RolloutScorer, SKIP_FILL } from './history.js';
import { GREEDY, jobOf, rolloutPositions } from './jobs.js';
import type { RolloutDrafts } from './draft-stage.js';
import { CARRIED, PreviousPlan, StageDrafts, type Carry } from './carry.js';
import { GivenDrafter } from '../../runtime/speculate/drafters.js';
import { createDrafters } from './drafters.js';
import { openTarget } from './model.js';

export async function createRollout(ctx: ImplContext, speculative: boolean): Promise<StageInstance> {
  const p = ctx.params;
  const k = p.k as number;
  const maxAgents = p.max_agents as number;
  const sampling = { temperature: p.temperature as number, topK: p.top_k as number };
  const target = await openTarget(ctx.executionProvider, ctx.log);
  const names = p.drafters as string[];
  // The model's drafts come from the draft stage (another XPU), the previous plan from this
  // stage's last frame; the cheap drafters run inline (microseconds a rollout).
  const useModel = names.includes('model');
  const usePrevious = names.includes('previous');
  const inlineNames = names.filter((n) => n !== 'model' && n !== 'previous');
  const capacity = maxAgents * Math.max(1, k - 1);
  const source = speculative ? new PredraftSource('model', capacity, WINDOW, CONTEXT, T) : undefined;
  const carried = new StageDrafts(capacity);
  const plan = new PreviousPlan(k);
  const previous = new GivenDrafter('previous', capacity, CARRIED, H);
  const histories = new Histories(SKIP_FILL);
  const scorer = new RolloutScorer();
  const drop = dropper(ctx);
  const totals = { frames: 0, tokens: 0, ms: 0, calls: 0, plainCalls: 0, accepted: new Map<string, [number, number]>(), drafted: 0, undrafted: 0, planned: 0, draftMs: 0 };
  // Per frame rolled out: what became of the draft stage's latest drafts (each frame counted once).
  const fate: Record<Carry, number> = { fresh: 0, stale: 0, missing: 0 };
  let lastDrafts: RolloutDrafts | undefined;
  const pos = new Float64Array(2 * T);
  let frame = 0;

  const decode = async (job: RolloutJob, drafts: RolloutDrafts | undefined, ms: number, ids: string[], sampled: boolean): Promise<RunStats> => {
    const rowsPer = job.rows / ids.length;
    let inline: Drafter[] = [];
    if (source) {
      const got = carried.load(useModel ? drafts : undefined, ms, ids, job, rowsPer, sampled);
      if (!sampled && useModel) fate[got.fate]++;
      const rows = carried.map.subarray(0, job.rows);
      for (let r = 0; r < job.rows; r++) rows[r]! >= 0 ? totals.drafted++ : totals.undrafted++;
      source.load(got.drafts, rows);
      if (usePrevious) {
        totals.planned += plan.load(ms, ids, rowsPer, sampled, previous);
        inline.push(previous);
      }
      inline = inline.concat(await createDrafters(inlineNames, { rows: job.rows, seed: p.seed }));
    }
    const s = source ? await decodeDecoupled(job, target, source, { use: useModel ? ['model'] : [], inline }) : await decodePlain(job, target);
    if (source && usePrevious) plan.remember(ms, ids, job, rowsPer, sampled);
    totals.tokens += s.tokens;
    totals.ms += s.ms;
    totals.calls += s.calls;
    totals.plainCalls += job.steps;
    for (const [n, d] of Object.entries(s.drafters)) {
      const a = totals.accepted.get(n) ?? [0, 0];
      a[0] += d.accepted.reduce((x, y) => x + y, 0);
      a[1] += d.proposed.reduce((x, y) => x + y, 0);
      totals.accepted.set(n, a);
    }
    return s;
  };

  return {
    async process(inputs) {
      const gt = inputs.ground_truth as GroundTruth | undefined;
      if (gt && Array.isArray(gt.objects) && gt.header?.stamp) scorer.addTruth(stampKey(gt.header.stamp) / 1e6, gt.objects);
      const tr = inputs.tracks as Detection3DArray | undefined;
      // The draft stage's latest drafts (latched: never waited for); each message counted once.
      const drafts = inputs.drafts as RolloutDrafts | undefined;
      if (drafts && drafts !== lastDrafts) totals.draftMs += drafts.ms;
      lastDrafts = drafts;
      if (!tr) return null;
      if (!Array.isArray(tr.detections) || !tr.header?.stamp) return drop('on tracks', 'expected vision_msgs/msg/Detection3DArray {header, detections: []}');
      const ms = stampKey(tr.header.stamp) / 1e6;
      const agents = agentsOf(tr, histories, ms, maxAgents);
      frame++;
      const rollouts = agents.map((a) => ({ id: a.id, class_id: a.cls, dt: DT, steps: T, k, points: [] as Array<{ x: number; y: number; z: number }> }));
      if (agents.length > 0) {
        totals.frames++;
        const greedy = jobOf(agents.map((a) => a.h), 1, GREEDY);
        const ids = agents.map((a) => a.id);
        await decode(greedy.job, drafts, ms, ids, false);
        agents.forEach((a, i) => {
          rolloutPositions(greedy.job, greedy.refs, greedy.origins, i, pos);
          for (let s = 0; s < T; s++) rollouts[i]!.points.push({ x: pos[2 * s]!, y: pos[2 * s + 1]!, z: 0 });
          const xs = a.h.xs;
          const ys = a.h.ys;
          scorer.add(ms, pos, xs[H]!, ys[H]!, xs[H]! - xs[H - 1]!, ys[H]! - ys[H - 1]!);
        });
        if (k > 1) {
          const sampled = jobOf(agents.map((a) => a.h), k - 1, sampling, (p.seed as number) * 7919 + frame);
          await decode(sampled.job, drafts, ms, ids, true);
          agents.forEach((_, i) => {
            for (let j = 0; j < k - 1; j++) {
              rolloutPositions(sampled.job, sampled.refs, sampled.origins, i * (k - 1) + j, pos);
              for (let s = 0; s < T; s++) rollouts[i]!.points.push({ x: pos[2 * s]!, y: pos[2 * s + 1]!, z: 0 });
            }
          });
        }
      }
      plan.prune(ms);
      scorer.update();
      return { rollouts: { header: tr.header, rollouts } };
    },
    finish() {
      const q = scorer.meter.result();
      const acc: Record<string, number> = {};
      for (const [n, [a, pr]] of totals.accepted) acc[n] = pr > 0 ? Math.round((a / pr) * 1e3) / 1e3 : 0;
      ctx.summary('rollout', {
        decoding: speculative ? 'speculative' : 'plain',
        frames_rolled_out: totals.frames,
        tokens: totals.tokens,
        tokens_per_s: Math.round((totals.tokens * 1000) / Math.max(totals.ms, 1e-9)),
        target_calls: totals.calls,
        plain_calls: totals.plainCalls,
        // rows_drafted: rows with a draft-stage draft; drafts_*: per frame, the latest drafts were of the previous frame (or this one), older (discarded), or none.
        ...(speculative ? { acceptance: acc, rows_drafted: totals.drafted, rows_undrafted: totals.undrafted, rows_planned: totals.planned, drafts_fresh: fate.fresh, drafts_stale: fate.stale, drafts_missing: fate.missing } : {}),
        draft_stage_ms: Math.round(totals.draftMs),
        ...q,
        unmatched: scorer.unmatched,
        lost_truth: scorer.lost,
        truth_gaps: scorer.gaps,
      });
    },
    async close() {
      await target.close();
    },
  };
}

