// Stage bodies of the tracker and of the evaluation sink.
import type { StatefulInstance } from '../../runtime/xnode/state.js';
import type { ImplContext, StageFn, StageInstance } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { GroundTruth, GtObject, Objects } from '../perception-common/messages.js';
import { CLASS_NAMES, stampKey } from '../perception-common/messages.js';
import { QualityMeter, type Prediction } from './quality.js';
import { detection2DArray, detection3DArray, type Detection2DArray, type Detection3DArray } from './ros.js';
import { Tracker, type TrackerParams } from './tracker.js';

type Ctx = Pick<ImplContext, 'params' | 'count' | 'log'>;

function checkObjects(o: Objects): string | undefined {
  if (!o || typeof o !== 'object' || !Array.isArray(o.objects) || !o.header?.stamp) return 'expected xauto/Objects {header, objects: []}';
  for (const [i, x] of o.objects.entries()) {
    const finite = [...(x.center ?? []), ...(x.size ?? []), ...(x.box2d ?? [])].every(Number.isFinite);
    if (!finite || x.center?.length !== 3 || x.size?.length !== 3 || x.box2d?.length !== 4) return `objects[${i}]: expected finite center[3], size[3], box2d[4]`;
  }
  return undefined;
}

/** The tracker stage; its state (tracks, Kalman state, next id) is declared for checkpoints. */
export function createTrack(ctx: Ctx): StatefulInstance {
  const tracker = new Tracker(ctx.params as unknown as TrackerParams);
  const drop = dropper(ctx);
  const process: StageFn = (inputs) => {
    const o = inputs.objects as Objects;
    const bad = checkObjects(o);
    if (bad) return drop('on objects', bad);
    const tracks = tracker.step(o);
    return { tracks: detection3DArray(o.header, tracks), tracks_2d: detection2DArray(o.header, tracks) };
  };
  return { process, state: tracker.state() };
}

export const NO_TRUTH = 'perception.quality_no_truth';
const TRUTH_HISTORY = 64;

/** The sink: scores tracks against ground truth; the quality section is written at the end. */
export function createEvaluate(ctx: Ctx & Pick<ImplContext, 'summary'>): StageInstance {
  const meter = new QualityMeter({
    iou: ctx.params.iou as number,
    minHeight: ctx.params.min_height as number,
    minVisible: ctx.params.min_visible as number,
  });
  const truth = new Map<number, GtObject[]>();
  const drop = dropper(ctx);
  const classOf = (name: string) => CLASS_NAMES.indexOf(name as (typeof CLASS_NAMES)[number]);
  return {
    process(inputs) {
      const gt = inputs.ground_truth as GroundTruth | undefined;
      if (gt && Array.isArray(gt.objects) && gt.header?.stamp) {
        truth.set(stampKey(gt.header.stamp), gt.objects);
        if (truth.size > TRUTH_HISTORY) truth.delete(truth.keys().next().value!);
      }
      const t3 = inputs.tracks as Detection3DArray;
      const t2 = inputs.tracks_2d as Detection2DArray;
      if (!t3 || !Array.isArray(t3.detections) || !t2 || !Array.isArray(t2.detections) || !t2.header?.stamp) {
        return drop('on tracks', 'expected vision_msgs/msg/Detection3DArray and Detection2DArray');
      }
      const objects = truth.get(stampKey(t2.header.stamp));
      if (!objects) {
        ctx.count(NO_TRUTH);
        return null;
      }
      const centers = new Map(t3.detections.map((d) => [d.id, d.bbox.center.position]));
      const preds: Prediction[] = t2.detections.map((d) => {
        const b = d.bbox;
        const c = centers.get(d.id);
        return {
          box: [b.center.position.x - b.size_x / 2, b.center.position.y - b.size_y / 2, b.center.position.x + b.size_x / 2, b.center.position.y + b.size_y / 2],
          cls: classOf(d.results[0]?.hypothesis.class_id ?? ''),
          id: Number(d.id),
          center: c ? [c.x, c.y, c.z] : undefined,
        };
      });
      meter.add(preds, objects);
      return null;
    },
    finish() {
      const r = meter.result();
      ctx.summary('quality', {
        recall: round(r.recall),
        precision: round(r.precision),
        id_switches: r.id_switches,
        centroid_error_m: round(r.centroid_error_m),
        frames: r.frames,
        true_positives: r.true_positives,
        false_positives: r.false_positives,
        false_negatives: r.false_negatives,
      });
    },
  };
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
