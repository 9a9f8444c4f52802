// Multi-object tracking, and the evaluation sink that scores tracks against ground truth.
import { defineXNode } from '../../runtime/xnode/index.js';
import { createEvaluate, createTrack } from './stages.js';

export const track = defineXNode({
  type: 'tracking/track',
  description: 'Constant-velocity Kalman filter + Hungarian assignment; stable ids; state in typed arrays.',
  inputs: { objects: { type: 'xauto/Objects' } },
  outputs: {
    tracks: { type: 'vision_msgs/msg/Detection3DArray', description: 'confirmed tracks updated this frame (id = track id)' },
    tracks_2d: { type: 'vision_msgs/msg/Detection2DArray', description: 'the same tracks as image boxes' },
  },
  params: {
    max_tracks: { type: 'int', default: 128, min: 1, max: 65536 },
    gate: { type: 'float', default: 2.5, min: 0, description: 'largest distance (m) between a track and its object' },
    max_misses: { type: 'int', default: 3, min: 0, description: 'frames a track survives without an object' },
    min_hits: { type: 'int', default: 2, min: 1, description: 'updates before a track is reported' },
    accel_noise: { type: 'float', default: 4, min: 0, description: 'process noise: acceleration variance (m^2/s^4)' },
  },
  stateful: true,
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => createTrack(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./track.worker.js', import.meta.url).href },
  ],
});

export const evaluate = defineXNode({
  type: 'tracking/evaluate',
  description: 'Sink: recall, precision, id switches and centroid error of tracks against ground truth (image IoU).',
  inputs: {
    tracks: { type: 'vision_msgs/msg/Detection3DArray' },
    tracks_2d: { type: 'vision_msgs/msg/Detection2DArray' },
    ground_truth: { type: 'xauto/GroundTruth' },
  },
  params: {
    iou: { type: 'float', default: 0.5, min: 0, max: 1, description: 'image-box IoU a match needs' },
    min_height: { type: 'float', default: 20, min: 0, description: "objects lower than this (px) are don't-care" },
    min_visible: { type: 'float', default: 0.5, min: 0, max: 1, description: "objects less visible than this are don't-care" },
  },
  stateful: true,
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => createEvaluate(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./evaluate.worker.js', import.meta.url).href },
  ],
});

export const xnodes = [track, evaluate];
