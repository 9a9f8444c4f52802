// planning/draft: the drafter as a stage of its own, placed by the planner like any other.
// Per frame it builds the rollout stage's jobs from the same tracks (its own histories, the
// same rule) and drafts every step of every rollout with the smaller model, so the rollout
// stage (another XPU) verifies frame f while this one drafts frame f + 1. A draft is only a
// proposal: the rollout stage checks each against its own prompt and verifies it exactly, so
// its greedy rollouts never depend on this stage, nor do its sampled rollouts' distributions.
import type { Predrafts } from '../../runtime/speculate/predraft.js';
import type { ImplContext, StageInstance } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import { stampKey, type Header } from '../perception-common/messages.js';
import type { Detection3DArray } from '../tracking/ros.js';
import { agentsOf, Histories } from './history.js';
import { GREEDY, jobOf } from './jobs.js';
import { ensureRolloutModels, OrtWindowModel } from './model.js';
import { CONTEXT, DRAFT_WINDOW, H, WINDOW } from './motion.js';
import { WholeDrafter } from './predraft.js';

/** xauto/RolloutDrafts: whole-rollout drafts of one frame's jobs (greedy, then sampled). */
export interface RolloutDrafts {
  header: Header;
  /** Agent ids in the jobs' row order (row = agent * rollouts + j). */
  ids: string[];
  /** Per agent: the H prompt tokens and the context the drafts continue. */
  prompts: Int32Array;
  context: Float32Array;
  /** Rollouts per agent (the first greedy, the others sampled). */
  k: number;
  greedy: Predrafts;
  sampled?: Predrafts;
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
  const histories = new Histories();
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
      const greedy = jobOf(agents.map((a) => a.h), 1, GREEDY);
      const prompts = new Int32Array(agents.length * H);
      agents.forEach((_, i) => prompts.set(greedy.job.tokens.subarray(i * WINDOW, i * WINDOW + H), i * H));
      const out: RolloutDrafts = { header: tr.header, ids: agents.map((a) => a.id), prompts, context: greedy.job.context.slice(0, agents.length * CONTEXT), k, greedy: { ahead: 0, tokens: new Int32Array(0) }, ms: 0 };
      if (agents.length > 0) {
        out.greedy = await drafter.draft(greedy.job, 0);
        if (k > 1) out.sampled = await drafter.draft(jobOf(agents.map((a) => a.h), k - 1, sampling).job, draftSeed(p.seed as number, frame));
      }
      out.ms = performance.now() - t0;
      return { drafts: out };
    },
    async close() {
      await drafter.model.close();
    },
  };
}

/**
 * Which draft row continues each row of a rollout job: the same agent (id), drafted from the
 * same prompt and context (histories of the two stages differ after a frame one of them
 * missed); -1 where none does. rowsPer: the job's rollouts per agent; sampled: the job is the
 * sampled one (k - 1 rollouts per agent in the drafts).
 */
export function draftRows(d: RolloutDrafts | undefined, ids: string[], job: { tokens: Int32Array; context: Float32Array }, rowsPer: number, sampled: boolean, out: Int32Array): Int32Array {
  out.fill(-1);
  const per = sampled ? d && d.k - 1 : 1;
  if (!d || !per || !(sampled ? d.sampled : d.greedy.ahead)) return out;
  const at = new Map(d.ids.map((id, i) => [id, i]));
  ids.forEach((id, a) => {
    const i = at.get(id);
    if (i === undefined) return;
    const row0 = a * rowsPer;
    for (let t = 0; t < H; t++) if (job.tokens[row0 * WINDOW + t] !== d.prompts[i * H + t]) return;
    for (let c = 0; c < CONTEXT; c++) if (job.context[row0 * CONTEXT + c] !== d.context[i * CONTEXT + c]) return;
    for (let j = 0; j < Math.min(rowsPer, per); j++) out[row0 + j] = i * per + j;
  });
  return out;
}
