// Planning: trajectory rollout of tracked agents by an autoregressive motion model, decoded
// with exact speculative decoding (runtime/speculate).
import { defineXNode } from '../../runtime/xnode/index.js';

export const rollout = defineXNode({
  type: 'planning/rollout',
  description: 'K rollouts of T steps per tracked agent from a fitted causal motion transformer (ONNX); speculative decoding with drafters on a worker thread, output identical to plain decoding.',
  inputs: {
    tracks: { type: 'vision_msgs/msg/Detection3DArray', description: 'tracks (id = track id); the stage keeps each track’s history itself' },
    ground_truth: { type: 'xauto/GroundTruth', optional: true, description: 'scene truth: ADE/FDE of the greedy rollouts in the summary' },
  },
  outputs: {
    rollouts: { type: 'xauto_msgs/msg/TrajectoryRolloutArray', description: 'k rollouts of T points per agent with enough history' },
  },
  params: {
    k: { type: 'int', default: 3, min: 1, max: 16, description: 'rollouts per agent (the first greedy, the others sampled)' },
    temperature: { type: 'float', default: 0.7, min: 0.01, description: 'sampled rollouts: softmax temperature' },
    top_k: { type: 'int', default: 20, min: 0, description: 'sampled rollouts: keep the k most likely tokens (0 = all)' },
    max_agents: { type: 'int', default: 128, min: 1, max: 4096 },
    drafters: { type: 'string[]', default: ['model', 'kinematic', 'ngram'], description: "drafters run on the worker: 'model', 'kinematic', 'ngram', 'random'" },
    seed: { type: 'int', default: 1 },
  },
  stateful: true,
  impls: [
    { name: 'speculative', xpu: '*', backend: 'onnx', module: new URL('./rollout.ort.js', import.meta.url).href },
    { name: 'plain', xpu: '*', backend: 'onnx', module: new URL('./rollout-plain.ort.js', import.meta.url).href },
  ],
});

export const xnodes = [rollout];
