// Planning: trajectory rollout of tracked agents by an autoregressive motion model, decoded
// with exact speculative decoding (runtime/speculate).
import { defineXNode } from '../../runtime/xnode/index.js';

// Parameters the draft stage needs equal to the rollout stage's, so its jobs are the same.
const shared = {
  k: { type: 'int', default: 3, min: 1, max: 16, description: 'rollouts per agent (the first greedy, the others sampled)' },
  temperature: { type: 'float', default: 0.7, min: 0.01, description: 'sampled rollouts: softmax temperature' },
  top_k: { type: 'int', default: 20, min: 0, description: 'sampled rollouts: keep the k most likely tokens (0 = all)' },
  max_agents: { type: 'int', default: 128, min: 1, max: 4096 },
} as const;

export const draft = defineXNode({
  type: 'planning/draft',
  description: 'Whole-rollout drafts of every tracked agent from the smaller fitted motion model, one step further than a rollout (for the next frame): argmax for the greedy rollout, draws from its own distribution (handed over with them) for the sampled ones.',
  inputs: {
    tracks: { type: 'vision_msgs/msg/Detection3DArray', description: 'the tracks planning/rollout rolls out (the stage keeps the same histories)' },
  },
  outputs: {
    drafts: { type: 'xauto/RolloutDrafts', description: 'per agent: reference step, and a draft of T steps after the frame of each of its k rollouts' },
  },
  params: {
    ...shared,
    seed: { type: 'int', default: 1, description: "the drafter's own draws (verification stays exact whatever it is)" },
  },
  stateful: true,
  impls: [
    { name: 'model', xpu: '*', backend: 'onnx', module: new URL('./draft.ort.js', import.meta.url).href },
    { name: 'model-worker', xpu: 'cpu', backend: 'worker', module: new URL('./draft.worker.js', import.meta.url).href },
  ],
});

export const rollout = defineXNode({
  type: 'planning/rollout',
  description: 'K rollouts of T steps per tracked agent from a fitted causal motion transformer (ONNX); speculative decoding of whatever drafts are current (the draft stage’s latest, its own previous plan, inline drafters), greedy output identical to plain decoding, sampled output of exactly the target’s distribution.',
  inputs: {
    tracks: { type: 'vision_msgs/msg/Detection3DArray', description: 'tracks (id = track id); the stage keeps each track’s history itself' },
    drafts: { type: 'xauto/RolloutDrafts', latched: true, optional: true, description: 'the latest drafts of planning/draft, made from the previous frame while this stage verifies (latched: never waited for; older ones are discarded, agents without one are drafted inline; proposals only, verified exactly; plain decoding ignores them)' },
    ground_truth: { type: 'xauto/GroundTruth', optional: true, description: 'scene truth: ADE/FDE of the greedy rollouts in the summary' },
  },
  outputs: {
    rollouts: { type: 'xauto_msgs/msg/TrajectoryRolloutArray', description: 'k rollouts of T points per agent with enough history' },
  },
  params: {
    ...shared,
    drafters: { type: 'string[]', default: ['model', 'previous', 'kinematic', 'ngram'], description: "'model' (the draft stage's drafts), 'previous' (this stage's rollouts of the last frame), inline: 'kinematic', 'ngram', 'random'" },
    seed: { type: 'int', default: 1 },
  },
  stateful: true,
  impls: [
    { name: 'speculative', xpu: '*', backend: 'onnx', module: new URL('./rollout.ort.js', import.meta.url).href },
    { name: 'plain', xpu: '*', backend: 'onnx', module: new URL('./rollout-plain.ort.js', import.meta.url).href },
  ],
});

export const xnodes = [draft, rollout];
