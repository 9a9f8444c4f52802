// Class-wise greedy non-maximum suppression on xauto/Detections2D.
import { iou } from '../perception-common/boxes.js';
import type { Detections2D } from '../perception-common/messages.js';

export interface NmsParams {
  iou_threshold: number;
  score_threshold: number;
  max_detections: number;
}

/** Why detections cannot be filtered, or undefined. */
export function checkDetections(d: Detections2D): string | undefined {
  if (!d || typeof d !== 'object' || !(d.boxes instanceof Float32Array) || !(d.scores instanceof Float32Array) || !(d.classes instanceof Int32Array)) {
    return 'expected xauto/Detections2D {count, boxes: Float32Array, scores: Float32Array, classes: Int32Array}';
  }
  if (!Number.isInteger(d.count) || d.boxes.length !== d.count * 4 || d.scores.length !== d.count || d.classes.length !== d.count) {
    return `count ${d.count} does not match boxes (${d.boxes.length / 4}), scores (${d.scores.length}), classes (${d.classes.length})`;
  }
  return undefined;
}

export function nms(d: Detections2D, p: NmsParams): Detections2D {
  const order: number[] = [];
  for (let i = 0; i < d.count; i++) if (d.scores[i]! >= p.score_threshold && validBox(d.boxes, i * 4)) order.push(i);
  // Ties broken by index: every implementation keeps the same boxes in the same order.
  order.sort((a, b) => d.scores[b]! - d.scores[a]! || a - b);
  const keep: number[] = [];
  for (const i of order) {
    if (keep.length >= p.max_detections) break;
    let ok = true;
    for (const k of keep) {
      if (d.classes[k] === d.classes[i] && iou(d.boxes, k * 4, d.boxes, i * 4) > p.iou_threshold) {
        ok = false;
        break;
      }
    }
    if (ok) keep.push(i);
  }
  const n = keep.length;
  const out: Detections2D = { header: d.header, count: n, boxes: new Float32Array(n * 4), scores: new Float32Array(n), classes: new Int32Array(n) };
  keep.forEach((i, j) => {
    out.boxes.set(d.boxes.subarray(i * 4, i * 4 + 4), j * 4);
    out.scores[j] = d.scores[i]!;
    out.classes[j] = d.classes[i]!;
  });
  return out;
}

const validBox = (b: Float32Array, o: number): boolean =>
  Number.isFinite(b[o]! + b[o + 1]! + b[o + 2]! + b[o + 3]!) && b[o + 2]! > b[o]! && b[o + 3]! > b[o + 1]!;
