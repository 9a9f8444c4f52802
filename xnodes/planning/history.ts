// Per-track position histories kept from successive track messages (the tracker publishes
// positions only), and the scoring of greedy rollouts against later ground truth.
import { DT, H, T } from './motion.js';
import { CLASS_NAMES, type GtObject } from '../perception-common/messages.js';
import type { Detection3DArray } from '../tracking/ros.js';
import { DisplacementMeter, type History } from './jobs.js';

interface Track {
  xs: Float64Array;
  ys: Float64Array;
  n: number;
  lastMs: number;
}

/**
 * Frames a track may skip and keep its history (filled in on the straight line): a stage that
 * falls behind and takes only the latest tracks (keep-last) keeps rolling its agents out instead
 * of waiting H frames for a fresh history. Both planning stages fill alike, so the draft stage's
 * histories are the rollout stage's.
 */
export const SKIP_FILL = 3;

/**
 * Histories of H + 1 positions, one per frame; a track that skips frames starts over, or, with
 * `fill`, has up to that many skipped frames filled in on the straight line.
 */
export class Histories {
  readonly #tracks = new Map<string, Track>();

  constructor(private readonly fill = 0) {}

  /** Adds this frame's position; returns the track once it has H + 1 consecutive positions. */
  add(id: string, ms: number, x: number, y: number): Track | undefined {
    let t = this.#tracks.get(id);
    const gap = t ? Math.round((ms - t.lastMs) / (DT * 1000)) : 0;
    const onGrid = t ? Math.abs(ms - t.lastMs - gap * DT * 1000) <= DT * 500 : false;
    if (!t || !onGrid || gap < 1 || gap > 1 + this.fill) {
      t = { xs: new Float64Array(H + 1), ys: new Float64Array(H + 1), n: 0, lastMs: ms };
      this.#tracks.set(id, t);
    } else if (gap > 1) {
      const x0 = t.xs[t.n - 1]!;
      const y0 = t.ys[t.n - 1]!;
      for (let k = 1; k < gap; k++) this.#push(t, x0 + ((x - x0) * k) / gap, y0 + ((y - y0) * k) / gap);
    }
    this.#push(t, x, y);
    t.lastMs = ms;
    return t.n === H + 1 ? t : undefined;
  }

  #push(t: Track, x: number, y: number): void {
    if (t.n === H + 1) {
      t.xs.copyWithin(0, 1);
      t.ys.copyWithin(0, 1);
      t.n--;
    }
    t.xs[t.n] = x;
    t.ys[t.n] = y;
    t.n++;
  }

  /** Forgets tracks not seen for a second. */
  prune(ms: number): void {
    for (const [id, t] of this.#tracks) if (ms - t.lastMs > 1000) this.#tracks.delete(id);
  }
}

export interface Agent {
  id: string;
  cls: string;
  h: History;
}

/** Adds this frame's track positions; returns the tracks with a full history (at most `max`), in message order. */
export function agentsOf(tr: Detection3DArray, histories: Histories, ms: number, max: number): Agent[] {
  const agents: Agent[] = [];
  for (const d of tr.detections) {
    const c = d.bbox?.center?.position;
    if (!c || !Number.isFinite(c.x) || !Number.isFinite(c.y)) continue;
    const h = histories.add(String(d.id), ms, c.x, c.y);
    const cls = d.results?.[0]?.hypothesis?.class_id ?? '';
    if (h && agents.length < max) agents.push({ id: String(d.id), cls, h: { cls: Math.max(0, CLASS_NAMES.indexOf(cls as (typeof CLASS_NAMES)[number])), xs: h.xs, ys: h.ys } });
  }
  histories.prune(ms);
  return agents;
}

interface Pending {
  gtId: number;
  startMs: number;
  pred: Float64Array;
  truth: Float64Array;
  next: number;
  /** Steps whose truth frame came. */
  seen: number;
  x0: number;
  y0: number;
  vx: number;
  vy: number;
}

/** Greedy rollouts waiting for the ground truth of the T frames after them. */
export class RolloutScorer {
  readonly meter = new DisplacementMeter();
  readonly #truth = new Map<number, GtObject[]>();
  #pending: Pending[] = [];
  unmatched = 0;
  lost = 0;
  /** Rollouts left unscored because the truth frames of their last step or of most steps never came. */
  gaps = 0;

  addTruth(ms: number, objects: GtObject[]): void {
    this.#truth.set(Math.round(ms), objects);
    if (this.#truth.size > T + 16) this.#truth.delete(this.#truth.keys().next().value!);
  }

  /** A greedy rollout from (x0, y0) at ms; matched to the nearest true object of that frame (within 2 m). */
  add(ms: number, pred: Float64Array, x0: number, y0: number, vx: number, vy: number): void {
    const now = this.#truth.get(Math.round(ms));
    if (!now) return;
    let best: GtObject | undefined;
    let bestD = 2;
    for (const o of now) {
      const d = Math.hypot(o.center[0] - x0, o.center[1] - y0);
      if (d < bestD) {
        bestD = d;
        best = o;
      }
    }
    if (!best) {
      this.unmatched++;
      return;
    }
    this.#pending.push({ gtId: best.id, startMs: ms, pred: Float64Array.from(pred), truth: new Float64Array(2 * T), next: 0, seen: 0, x0, y0, vx, vy });
  }

  /**
   * Scores what the truth received so far completes. A loaded pipeline drops frames, and a
   * dropped frame's truth never comes (half a second later it is given up): that step is left
   * out of the ADE, so a 3 s horizon can be scored without 30 frames in a row; the last step's
   * truth is required (FDE), and at least half the steps'.
   */
  update(): void {
    const newest = this.#newestMs();
    this.#pending = this.#pending.filter((p) => {
      for (;;) {
        if (p.next === T) {
          if (Number.isNaN(p.truth[2 * (T - 1)]!) || 2 * p.seen < T) this.gaps++;
          else this.meter.add(p.pred, p.truth, T, p.x0, p.y0, p.vx, p.vy);
          return false;
        }
        const at = p.startMs + (p.next + 1) * DT * 1000;
        const objs = this.#truth.get(Math.round(at));
        if (!objs) {
          if (newest < at + 500) return true;
          p.truth[2 * p.next] = NaN;
          p.truth[2 * p.next + 1] = NaN;
          p.next++;
          continue;
        }
        const o = objs.find((g) => g.id === p.gtId);
        if (!o) {
          this.lost++;
          return false;
        }
        p.truth[2 * p.next] = o.center[0];
        p.truth[2 * p.next + 1] = o.center[1];
        p.next++;
        p.seen++;
      }
    });
  }

  #newestMs(): number {
    let m = -Infinity;
    for (const k of this.#truth.keys()) m = Math.max(m, k);
    return m;
  }
}
