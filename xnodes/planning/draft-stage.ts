// planning/draft: the drafter as a stage of its own, placed by the planner like any other.
// Per frame it builds the rollout stage's jobs from the same tracks (its own histories, the
// same rule) and drafts every rollout one step further than the rollout stage decodes, with
// the smaller model. The rollout stage reads the drafts through a latched input, so it never
// waits for them: verifying frame f, it takes the drafts made from frame f - 1 (one step on,
// xnodes/planning/carry.ts) while this stage drafts from frame f on its own XPU. A draft
// is only a proposal: the rollout stage verifies it exactly, so its greedy rollouts never
// depend on this stage, nor do its sampled rollouts' distributions.
import type { Predrafts } from '../../runtime/speculate/predraft.js';
import type { ImplContext, StageInstance } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import { stampKey, type Header } from '../perception-common/messages.js';
import type { Detection3DArray } from '../tracking/ros.js';
import { agentsOf, Histories, SKIP_FILL } from './history.js';
import { GREEDY, jobOf } from './jobs.js';
import { ensureRolloutModels, OrtWindowModel } from './model.js';
import { DRAFT_WINDOW, T } from './motion.js';
import { WholeDrafter } from './predraft.js';

/** xauto/RolloutDrafts: drafts of every rollout of one frame's agents, one step further (for the next frame). */
export interface RolloutDrafts {
  /** The frame drafted from (the tracks' stamp). */
  header: Header;
  /** Agent ids in the drafts' row order. */
  ids: string[];
  /** Rollouts per agent (the first greedy, the others sampled). */
  k: number;
  /**
   * Row agent * k + j: rollout j of the agent (0 greedy, the others sampled, with their
   * distributions); T tokens a row: the steps after the frame drafted from, one more than a rollout has.
   */
  drafts: Predrafts;
  /** Milliseconds spent drafting. */
  ms: number;
}

/** Seed of the drafter's own draws for a frame (any seed keeps verification exact). */
const draftSeed = (seed: number, frame: number) => (seed * 104729 + frame) ^ 0x5eed;

export async function createDraftStage(ctx: ImplContext): Promise<StageInstance> {
  const p = ctx.params;
  const k = p.k as number;
  const maxAgents = p.max_agents as number;
  const sampling = { temperature: p.temperature as number, topK: p.top_k as number };
  const drafter = new WholeDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW, ctx.executionProvider, ctx.log));
  const histories = new Histories(SKIP_FILL);
  const drop = dropper(ctx);
  let frame = 0;
  return {
    async process(inputs) {
      const tr = inputs.tracks as Detection3DArray | undefined;
      if (!tr) return null;
      if (!Array.isArray(tr.detections) || !tr.header?.stamp) return drop('on tracks', 'expected vision_msgs/msg/Detection3DArray {header, detections: []}');
      const agents = agentsOf(tr, histories, stampKey(tr.header.stamp) / 1e6, maxAgents);
      frame++;
      const t0 = performance.now();
      // One step further than a rollout (the first step is the next frame's observation), the
      // greedy and the sampled rollouts in one job: one model call a step drafts them all.
      const { job } = jobOf(agents.map((a) => a.h), k, k > 1 ? sampling : GREEDY);
      job.steps = T + 1;
      const out: RolloutDrafts = { header: tr.header, ids: agents.map((a) => a.id), k, drafts: { ahead: 0, tokens: new Int32Array(0) }, ms: 0 };
      if (agents.length > 0) out.drafts = await drafter.draft(job, draftSeed(p.seed as number, frame), k);
      out.ms = performance.now() - t0;
      return { drafts: out };
    },
    async close() {
      await drafter.model.close();
    },
  };
}
