// Multi-object tracker: a constant-velocity Kalman filter per track on the ground plane
// (state x, y, vx, vy), Hungarian assignment of fused objects to predicted tracks (distance
// gated, same class only), births from unassigned objects and deaths after `max_misses`
// frames without one. All state lives in preallocated typed arrays (capacity `max_tracks`) so
// it can be checkpointed as plain buffers.
import type { FusedObject, Objects, Time } from '../perception-common/messages.js';
import { stampKey } from '../perception-common/messages.js';
import { hostState, type XNodeState } from '../../runtime/xnode/state.js';
import { assign } from './hungarian.js';

export interface TrackerParams {
  max_tracks: number;
  gate: number;
  max_misses: number;
  min_hits: number;
  accel_noise: number;
}

/** One reported track (a view: copied out of the state arrays). */
export interface TrackOut {
  id: number;
  cls: number;
  score: number;
  center: [number, number, number];
  size: [number, number, number];
  velocity: [number, number];
  box2d: [number, number, number, number];
}

const FORBIDDEN = 1e9;

export class Tracker {
  /** [x, y, vx, vy] per slot. */
  readonly x: Float64Array;
  /** 4x4 covariance per slot, row-major. */
  readonly P: Float64Array;
  readonly id: Int32Array;
  readonly cls: Int32Array;
  readonly hits: Int32Array;
  readonly misses: Int32Array;
  readonly alive: Uint8Array;
  readonly score: Float32Array;
  /** [z, l, w, h] per slot. */
  readonly shape: Float32Array;
  readonly box2d: Float32Array;
  /** [next id, frames seen, last stamp sec, last stamp nanosec] */
  readonly clock = new Float64Array(4);
  private cost = new Float64Array(0);
  private readonly tmp = new Float64Array(16);

  constructor(readonly p: TrackerParams) {
    const n = p.max_tracks;
    this.x = new Float64Array(n * 4);
    this.P = new Float64Array(n * 16);
    this.id = new Int32Array(n);
    this.cls = new Int32Array(n);
    this.hits = new Int32Array(n);
    this.misses = new Int32Array(n);
    this.alive = new Uint8Array(n);
    this.score = new Float32Array(n);
    this.shape = new Float32Array(n * 4);
    this.box2d = new Float32Array(n * 4);
    this.clock[0] = 1;
  }

  /** Everything a restarted tracker needs to go on with the same tracks and ids (scratch excluded). */
  state(): XNodeState {
    const { x, P, id, cls, hits, misses, alive, score, shape, box2d, clock } = this;
    return hostState({ arrays: { x, P, id, cls, hits, misses, alive, score, shape, box2d, clock } });
  }

  /** Advances to the objects' stamp, updates, and returns the tracks to report. */
  step(msg: Objects): TrackOut[] {
    const t = msg.header.stamp;
    const frames = this.clock[1]!;
    const last = this.clock[2]! * 1e9 + this.clock[3]!;
    const now = stampKey(t);
    const dt = frames === 0 ? 0 : Math.max(0, (now - last) / 1e9);
    this.setClock(t);
    this.clock[1] = frames + 1;
    this.predict(dt);
    const objs = msg.objects;
    const slots: number[] = [];
    for (let s = 0; s < this.p.max_tracks; s++) if (this.alive[s]) slots.push(s);
    const rows = slots.length;
    const cols = objs.length;
    if (this.cost.length < rows * cols) this.cost = new Float64Array(rows * cols * 2);
    const cost = this.cost;
    for (let r = 0; r < rows; r++) {
      const s = slots[r]!;
      for (let c = 0; c < cols; c++) {
        const o = objs[c]!;
        const d = Math.hypot(this.x[s * 4]! - o.center[0], this.x[s * 4 + 1]! - o.center[1]);
        cost[r * cols + c] = o.cls === this.cls[s] && d <= this.gateFor(o) ? d : FORBIDDEN;
      }
    }
    const match = assign(cost, rows, cols, FORBIDDEN);
    const used = new Uint8Array(cols);
    for (let r = 0; r < rows; r++) {
      const s = slots[r]!;
      const c = match[r]!;
      if (c >= 0) {
        used[c] = 1;
        this.update(s, objs[c]!);
      } else if (++this.misses[s]! > this.p.max_misses) {
        this.alive[s] = 0;
      }
    }
    for (let c = 0; c < cols; c++) if (!used[c]) this.birth(objs[c]!);
    const out: TrackOut[] = [];
    const warmup = this.clock[1]! <= this.p.min_hits;
    for (let s = 0; s < this.p.max_tracks; s++) {
      if (!this.alive[s] || this.misses[s] !== 0 || (this.hits[s]! < this.p.min_hits && !warmup)) continue;
      const sh = this.shape;
      out.push({
        id: this.id[s]!,
        cls: this.cls[s]!,
        score: this.score[s]!,
        center: [this.x[s * 4]!, this.x[s * 4 + 1]!, sh[s * 4]!],
        size: [sh[s * 4 + 1]!, sh[s * 4 + 2]!, sh[s * 4 + 3]!],
        velocity: [this.x[s * 4 + 2]!, this.x[s * 4 + 3]!],
        box2d: [this.box2d[s * 4]!, this.box2d[s * 4 + 1]!, this.box2d[s * 4 + 2]!, this.box2d[s * 4 + 3]!],
      });
    }
    return out;
  }

  private setClock(t: Time): void {
    this.clock[2] = t.sec;
    this.clock[3] = t.nanosec;
  }

  /** Monocular positions are less certain with range: the gate widens with them. */
  private gateFor(o: FusedObject): number {
    return o.lidar ? this.p.gate : Math.max(this.p.gate, 0.1 * o.center[0]);
  }

  private predict(dt: number): void {
    if (dt === 0) return;
    const q = this.p.accel_noise;
    // Discrete white-acceleration noise per axis.
    const q11 = (q * dt ** 4) / 4, q13 = (q * dt ** 3) / 2, q33 = q * dt * dt;
    for (let s = 0; s < this.p.max_tracks; s++) {
      if (!this.alive[s]) continue;
      const X = this.x, b = s * 4;
      X[b] += dt * X[b + 2]!;
      X[b + 1] += dt * X[b + 3]!;
      // P = F P F^T + Q, F = [[I, dt I], [0, I]]
      const P = this.P, o = s * 16;
      const tmp = this.tmp;
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          // (F P)[i][j]
          tmp[i * 4 + j] = P[o + i * 4 + j]! + (i < 2 ? dt * P[o + (i + 2) * 4 + j]! : 0);
        }
      }
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) P[o + i * 4 + j] = tmp[i * 4 + j]! + (j < 2 ? dt * tmp[i * 4 + j + 2]! : 0);
      }
      for (const a of [0, 1]) {
        P[o + a * 4 + a] += q11;
        P[o + a * 4 + a + 2] += q13;
        P[o + (a + 2) * 4 + a] += q13;
        P[o + (a + 2) * 4 + a + 2] += q33;
      }
    }
  }

  private update(s: number, o: FusedObject): void {
    const X = this.x, P = this.P, b = s * 4, q = s * 16;
    const r = o.lidar ? 0.15 ** 2 : (0.05 * o.center[0]) ** 2 + 0.25;
    // H = [I 0]: S = P[0:2,0:2] + R; K = P[:,0:2] S^-1
    const s00 = P[q]! + r, s01 = P[q + 1]!, s10 = P[q + 4]!, s11 = P[q + 5]! + r;
    const det = s00 * s11 - s01 * s10;
    const i00 = s11 / det, i01 = -s01 / det, i10 = -s10 / det, i11 = s00 / det;
    const K = new Float64Array(8);
    for (let i = 0; i < 4; i++) {
      const p0 = P[q + i * 4]!, p1 = P[q + i * 4 + 1]!;
      K[i * 2] = p0 * i00 + p1 * i10;
      K[i * 2 + 1] = p0 * i01 + p1 * i11;
    }
    const y0 = o.center[0] - X[b]!, y1 = o.center[1] - X[b + 1]!;
    for (let i = 0; i < 4; i++) X[b + i] += K[i * 2]! * y0 + K[i * 2 + 1]! * y1;
    // P = (I - K H) P
    const old = P.slice(q, q + 16);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) P[q + i * 4 + j] = old[i * 4 + j]! - K[i * 2]! * old[j]! - K[i * 2 + 1]! * old[4 + j]!;
    }
    this.hits[s]!++;
    this.misses[s] = 0;
    this.observe(s, o);
  }

  private observe(s: number, o: FusedObject): void {
    this.score[s] = o.score;
    this.shape.set([o.center[2], o.size[0], o.size[1], o.size[2]], s * 4);
    this.box2d.set(o.box2d, s * 4);
  }

  private birth(o: FusedObject): void {
    let s = this.alive.indexOf(0);
    if (s < 0) return; // full: the object waits for a free slot
    this.alive[s] = 1;
    this.id[s] = this.clock[0]!;
    this.clock[0] = this.clock[0]! + 1;
    this.cls[s] = o.cls;
    this.hits[s] = 1;
    this.misses[s] = 0;
    const X = this.x, b = s * 4;
    X[b] = o.center[0];
    X[b + 1] = o.center[1];
    X[b + 2] = 0;
    X[b + 3] = 0;
    const pos = o.lidar ? 0.15 ** 2 : (0.05 * o.center[0]) ** 2 + 0.25;
    this.P.fill(0, s * 16, s * 16 + 16);
    this.P[s * 16] = pos;
    this.P[s * 16 + 5] = pos;
    this.P[s * 16 + 10] = 100; // speed unknown: up to ~10 m/s either way
    this.P[s * 16 + 15] = 100;
    this.observe(s, o);
  }
}
