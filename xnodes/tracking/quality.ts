// Quality against ground truth, KITTI style: a prediction matches a ground-truth object of its
// class when their image boxes overlap with IoU >= `iou`; greedy by IoU. Objects too small or
// too occluded to be expected (visible box lower than `minHeight` px, or less than
// `minVisible` of it visible) are "don't care": missing them is no error, and a prediction on
// one (or a prediction itself below `minHeight`) is neither right nor wrong.
import { iou4 } from '../perception-common/boxes.js';
import type { GtObject } from '../perception-common/messages.js';

export interface Prediction {
  box: [number, number, number, number];
  cls: number;
  /** Track id (for id switches). */
  id?: number;
  /** 3D centre, base_link (for the centroid error). */
  center?: [number, number, number];
}

export interface QualityOptions {
  iou: number;
  minHeight: number;
  minVisible: number;
}

export const DEFAULT_QUALITY: QualityOptions = { iou: 0.5, minHeight: 20, minVisible: 0.5 };

export class QualityMeter {
  tp = 0;
  fp = 0;
  fn = 0;
  frames = 0;
  idSwitches = 0;
  private centroidSum = 0;
  private centroidN = 0;
  /** Ground-truth id -> track id it was last matched to. */
  private readonly lastTrack = new Map<number, number>();

  constructor(readonly opts: QualityOptions = DEFAULT_QUALITY) {}

  private cares(g: GtObject): boolean {
    return !!g.box2d && g.box2d[3] - g.box2d[1] >= this.opts.minHeight && g.visible >= this.opts.minVisible;
  }

  add(preds: Prediction[], gt: GtObject[]): void {
    this.frames++;
    const pairs: Array<[number, number, number]> = [];
    for (let i = 0; i < preds.length; i++) {
      for (let j = 0; j < gt.length; j++) {
        const g = gt[j]!;
        if (!g.box2d || g.cls !== preds[i]!.cls) continue;
        const v = iou4(preds[i]!.box, g.box2d);
        if (v >= this.opts.iou) pairs.push([v, i, j]);
      }
    }
    pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
    const pUsed = new Uint8Array(preds.length);
    const gUsed = new Uint8Array(gt.length);
    for (const [, i, j] of pairs) {
      if (pUsed[i] || gUsed[j]) continue;
      pUsed[i] = 1;
      gUsed[j] = 1;
      const g = gt[j]!;
      const p = preds[i]!;
      if (!this.cares(g)) continue; // matched a don't-care object: ignored
      this.tp++;
      if (p.id !== undefined) {
        const last = this.lastTrack.get(g.id);
        if (last !== undefined && last !== p.id) this.idSwitches++;
        this.lastTrack.set(g.id, p.id);
      }
      if (p.center) {
        this.centroidSum += Math.hypot(p.center[0] - g.center[0], p.center[1] - g.center[1], p.center[2] - g.center[2]);
        this.centroidN++;
      }
    }
    for (let j = 0; j < gt.length; j++) if (!gUsed[j] && this.cares(gt[j]!)) this.fn++;
    for (let i = 0; i < preds.length; i++) {
      if (pUsed[i]) continue;
      const b = preds[i]!.box;
      if (b[3] - b[1] < this.opts.minHeight) continue;
      // A prediction on a don't-care object (any overlap at the IoU bar, class aside) is ignored.
      if (gt.some((g) => g.box2d && !this.cares(g) && iou4(b, g.box2d) >= this.opts.iou)) continue;
      this.fp++;
    }
  }

  result(): { recall: number; precision: number; id_switches: number; centroid_error_m: number; frames: number; true_positives: number; false_positives: number; false_negatives: number } {
    const r = (a: number, b: number) => (b > 0 ? a / b : 0);
    return {
      recall: r(this.tp, this.tp + this.fn),
      precision: r(this.tp, this.tp + this.fp),
      id_switches: this.idSwitches,
      centroid_error_m: r(this.centroidSum, this.centroidN),
      frames: this.frames,
      true_positives: this.tp,
      false_positives: this.fp,
      false_negatives: this.fn,
    };
  }
}
