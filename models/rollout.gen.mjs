// The trajectory-rollout models (target and a smaller drafter), fitted at build time on
// trajectories of the project's own scene simulator (xnodes/sensors/scene.ts): deterministic,
// nothing downloaded, a closed-form fit (ridge regression) that takes a few seconds.
//
// Architecture, per position of a causal window of motion tokens (xnodes/planning/motion.ts):
//   embedding: token -> its residual (x, y) in grid units (a Gather from a table);
//   one causal attention layer of L heads; queries and keys come from positional features
//   (q_i = beta [2 (i - h), -1], k_j = [j, j^2]), so head h attends to lag h (the token h
//   steps back); values are the embeddings; the heads' outputs are concatenated;
//   the agent context (class, speed) is broadcast along the window and concatenated;
//   a feed-forward block of F ReLU units (fixed seeded weights: random features) is
//   concatenated as a residual branch;
//   the output head: logits over the token grid of a Gaussian around a predicted mean, i.e.
//   logits = z W + b with W, b derived in closed form from the fitted mean and spread.
// Fitting: ridge regression of the next step's residual on z, teacher forced on the quantised
// tokens of simulated trajectories (so it sees at fit time what it feeds itself at roll-out):
// true histories, and histories as the project's tracker estimates them from noisy detections
// (with the true future), so it is fitted on what the rollout stage sees in the pipeline.
//
// Output of the target (rollout-target.onnx):
//   inputs  tokens [batch, WINDOW] int64, context [batch, CONTEXT] float32
//   outputs logits [batch, WINDOW, VOCAB] float32, argmax [batch, WINDOW] int64
// The drafter (rollout-draft.onnx) is the same with fewer heads, no feed-forward block and a
// short window (DRAFT_WINDOW), so it is cheap to run token by token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DType, GraphBuilder } from './onnx-builder.mjs';
// The motion tokens are the rollout stage's own (TypeScript, loaded through tsx as the scene is).
const { tsImport } = await import('tsx/esm/api');
const { mulberry32 } = await tsImport('../runtime/util/random.ts', import.meta.url);
const { CONTEXT, DRAFT_WINDOW, DT, H, NX, NY, QX, QY, T, VOCAB, WINDOW, positions, tokenise, unitsOf } = await tsImport('../xnodes/planning/motion.ts', import.meta.url);

export const TARGET = { heads: 6, ffn: 16, window: WINDOW };
export const DRAFT = { heads: 2, ffn: 0, window: DRAFT_WINDOW };
const BETA = 30;
const RIDGE = 1e-3;
/** Standard deviation (m) of detection centroids the tracker is fed when making tracked histories. */
const DETECTION_NOISE = 0.06;
const TRAIN_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const HELDOUT_SEEDS = [101, 102, 103, 104];
const SPEEDS = [3, 5, 8];

/** Positions of every actor at every step of a scene (seed, ego speed), ground truth. */
async function simulate(seed, egoSpeed, steps) {
  const { Scene } = await tsImport('../xnodes/sensors/scene.ts', import.meta.url);
  const scene = new Scene({ seed, objects: 12, egoSpeed });
  const frames = [];
  for (let s = 0; s < steps; s++) frames.push(scene.at(s * DT).map((o) => ({ ...o })));
  return frames;
}

/**
 * Windows of H + 1 + T positions of every actor whose ground-truth id stays the same.
 * `tracked`: the history is what the project's tracker (xnodes/tracking/tracker.ts) estimates
 * from detections with `noise` (m) on their centroids, as the pipeline's rollout stage sees it;
 * the future stays the truth. Otherwise the history is the truth too.
 */
export async function trajectories(seeds, stride = 0.3, span = 40, tracked = false, noise = 0.1) {
  const out = [];
  const n = H + 1 + T;
  const every = Math.max(1, Math.round(stride / DT));
  for (const [si, seed] of seeds.entries()) {
    const steps = Math.round(span / DT) + n;
    const frames = await simulate(seed, SPEEDS[si % SPEEDS.length], steps);
    if (tracked) {
      out.push(...(await trackedWindows(frames, seed, every, noise)));
      continue;
    }
    for (let s0 = 0; s0 + n <= steps; s0 += every) {
      for (let a = 0; a < frames[0].length; a++) {
        const id = frames[s0][a].id;
        if (frames[s0 + n - 1][a].id !== id) continue;
        const xs = new Float64Array(n);
        const ys = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          xs[k] = frames[s0 + k][a].x;
          ys[k] = frames[s0 + k][a].y;
        }
        out.push({ cls: frames[s0][a].cls, xs, ys });
      }
    }
  }
  return out;
}

/** Tracker histories (last H + 1 estimates) joined to the true future of the object they follow. */
async function trackedWindows(frames, seed, every, noise) {
  const { Tracker } = await tsImport('../xnodes/tracking/tracker.ts', import.meta.url);
  const tracker = new Tracker({ max_tracks: 128, gate: 2.5, max_misses: 3, min_hits: 2, accel_noise: 4 });
  const rnd = mulberry32(0x7ac4 + seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const hist = new Map();
  const out = [];
  for (let s = 0; s + T < frames.length; s++) {
    const t = s * DT;
    const sec = Math.floor(t);
    const header = { stamp: { sec, nanosec: Math.round((t - sec) * 1e9) }, frame_id: 'base_link' };
    const objects = frames[s].map((o) => ({ cls: o.cls, score: 0.9, box2d: [0, 0, 1, 1], center: [o.x + noise * gauss(), o.y + noise * gauss(), o.z], size: [o.l, o.w, o.h], lidar: true }));
    for (const tr of tracker.step({ header, objects })) {
      const h = hist.get(tr.id) ?? { xs: [], ys: [], last: -1, cls: tr.cls };
      if (h.last !== s - 1) {
        h.xs = [];
        h.ys = [];
      }
      h.xs.push(tr.center[0]);
      h.ys.push(tr.center[1]);
      if (h.xs.length > H + 1) {
        h.xs.shift();
        h.ys.shift();
      }
      h.last = s;
      hist.set(tr.id, h);
      if (h.xs.length < H + 1 || s % every !== 0) continue;
      // The object followed: the nearest true one now (within 1 m), same id for the next T steps.
      let best = -1;
      let bestD = 1;
      frames[s].forEach((o, a) => {
        const d = Math.hypot(o.x - tr.center[0], o.y - tr.center[1]);
        if (d < bestD) {
          bestD = d;
          best = a;
        }
      });
      if (best < 0 || frames[s + T][best].id !== frames[s][best].id) continue;
      const xs = new Float64Array(H + 1 + T);
      const ys = new Float64Array(H + 1 + T);
      xs.set(h.xs);
      ys.set(h.ys);
      for (let k = 1; k <= T; k++) {
        xs[H + k] = frames[s + k][best].x;
        ys[H + k] = frames[s + k][best].y;
      }
      out.push({ cls: frames[s][best].cls, xs, ys });
    }
  }
  return out;
}


/** Fixed random-feature weights of the feed-forward block: [in, ffn] and [ffn]. */
function ffnWeights(din, ffn) {
  const rnd = mulberry32(0x5eed + din * 131 + ffn);
  const w1 = new Float64Array(din * ffn).map(() => (rnd() * 2 - 1) / Math.sqrt(din) * 1.5);
  const b1 = new Float64Array(ffn).map(() => rnd() * 2 - 1);
  return { w1, b1 };
}

const fDim = (cfg) => 2 * cfg.heads + CONTEXT;
const zDim = (cfg) => fDim(cfg) + cfg.ffn;

/** z at position i of a window of tokens (float64 replica of the graph). */
function features(cfg, ffn, tokens, off, i, context, coff, z) {
  let d = 0;
  for (let h = 0; h < cfg.heads; h++) {
    const [ux, uy] = unitsOf(tokens[off + Math.max(0, i - h)]);
    z[d++] = ux;
    z[d++] = uy;
  }
  for (let c = 0; c < CONTEXT; c++) z[d++] = context[coff + c];
  const din = d;
  for (let u = 0; u < cfg.ffn; u++) {
    let s = ffn.b1[u];
    for (let k = 0; k < din; k++) s += z[k] * ffn.w1[k * cfg.ffn + u];
    z[d++] = s > 0 ? s : 0;
  }
  return z;
}

/** Solves (A + ridge I) x = b for symmetric positive A (n x n, row-major), in place (Cholesky-free Gauss). */
function solve(A, b, n, m) {
  const a = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) a[i * n + i] += RIDGE * (1 + a[i * n + i]);
  for (let c = 0; c < n; c++) {
    const p = a[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / p;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
      for (let j = 0; j < m; j++) x[r * m + j] -= f * x[c * m + j];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let j = 0; j < m; j++) {
      let s = x[r * m + j];
      for (let k = r + 1; k < n; k++) s -= a[r * n + k] * x[k * m + j];
      x[r * m + j] = s / a[r * n + r];
    }
  }
  return x;
}

/** Fits the mean head: M [Dz + 1, 2] (the last row is the bias) and the spread per axis. */
export function fit(cfg, data) {
  const ffn = ffnWeights(fDim(cfg), cfg.ffn);
  const n = zDim(cfg) + 1;
  const A = new Float64Array(n * n);
  const b = new Float64Array(n * 2);
  const z = new Float64Array(n);
  const tokens = new Int32Array(H + T);
  const context = new Float64Array(CONTEXT);
  const targets = [];
  const rows = [];
  for (const tr of data) {
    const ref = tokenise(tr.xs, tr.ys, tr.cls, tokens, 0, context, 0);
    // Future tokens from the true future, and the continuous residual each one stands for.
    for (let s = 0; s < T; s++) {
      const k = H + s;
      const rx = tr.xs[k + 1] - tr.xs[k] - ref[0];
      const ry = tr.ys[k + 1] - tr.ys[k] - ref[1];
      tokens[k] = tokenise1(rx, ry);
    }
    for (let i = H - 1; i < H + T - 1; i++) {
      features(cfg, ffn, tokens, 0, i, context, 0, z);
      z[n - 1] = 1;
      const k = i + 1;
      const tx = clampUnits((tr.xs[k + 1] - tr.xs[k] - ref[0]) / QX, NX);
      const ty = clampUnits((tr.ys[k + 1] - tr.ys[k] - ref[1]) / QY, NY);
      for (let r = 0; r < n; r++) {
        const zr = z[r];
        if (zr === 0) continue;
        for (let c = r; c < n; c++) A[r * n + c] += zr * z[c];
        b[r * 2] += zr * tx;
        b[r * 2 + 1] += zr * ty;
      }
      rows.push(Float64Array.from(z));
      targets.push(tx, ty);
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) A[r * n + c] = A[c * n + r];
  const M = solve(A, b, n, 2);
  let ex = 0;
  let ey = 0;
  for (let q = 0; q < rows.length; q++) {
    let mx = 0;
    let my = 0;
    for (let r = 0; r < n; r++) {
      mx += rows[q][r] * M[r * 2];
      my += rows[q][r] * M[r * 2 + 1];
    }
    ex += (mx - targets[2 * q]) ** 2;
    ey += (my - targets[2 * q + 1]) ** 2;
  }
  const sigma = [Math.max(0.5, Math.sqrt(ex / rows.length)), Math.max(0.5, Math.sqrt(ey / rows.length))];
  return { cfg, ffn, M, sigma, samples: rows.length };
}

const clampUnits = (u, n) => Math.min((n - 1) / 2, Math.max(-(n - 1) / 2, u));
const tokenise1 = (rx, ry) => {
  const ix = Math.min(NX - 1, Math.max(0, Math.round(rx / QX) + (NX - 1) / 2));
  const iy = Math.min(NY - 1, Math.max(0, Math.round(ry / QY) + (NY - 1) / 2));
  return ix * NY + iy;
};

/** The output head in closed form: logits_j = z . W[:, j] + b_j (a Gaussian around the fitted mean). */
function head(model) {
  const dz = zDim(model.cfg);
  const [sx, sy] = model.sigma;
  const W = new Float64Array(dz * VOCAB);
  const bias = new Float64Array(VOCAB);
  for (let j = 0; j < VOCAB; j++) {
    const [ux, uy] = unitsOf(j);
    const ax = ux / (sx * sx);
    const ay = uy / (sy * sy);
    for (let r = 0; r < dz; r++) W[r * VOCAB + j] = model.M[r * 2] * ax + model.M[r * 2 + 1] * ay;
    bias[j] = model.M[dz * 2] * ax + model.M[dz * 2 + 1] * ay - (ux * ux) / (2 * sx * sx) - (uy * uy) / (2 * sy * sy);
  }
  return { W, bias };
}

export function modelBytes(model, name) {
  const { cfg } = model;
  const S = cfg.window;
  const L = cfg.heads;
  const g = new GraphBuilder(name);
  g.input('tokens', DType.int64, ['batch', S]);
  g.input('context', DType.float, ['batch', CONTEXT]);
  const table = [];
  for (let j = 0; j < VOCAB; j++) table.push(...unitsOf(j));
  g.floats('embedding', [VOCAB, 2], table);
  const emb = g.node('Gather', ['embedding', 'tokens'], { axis: 0 });
  // Attention weights from positional queries and keys, causal mask, softmax.
  const q = [];
  for (let h = 0; h < L; h++) for (let i = 0; i < S; i++) q.push(BETA * 2 * (i - h), -BETA);
  const k = [];
  for (let j = 0; j < S; j++) k.push(j);
  for (let j = 0; j < S; j++) k.push(j * j);
  const mask = [];
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) mask.push(j <= i ? 0 : -1e9);
  g.floats('pos_q', [L, S, 2], q);
  g.floats('pos_k', [2, S], k);
  g.floats('causal_mask', [S, S], mask);
  const scores = g.node('Add', [g.node('MatMul', ['pos_q', 'pos_k']), 'causal_mask']);
  const attn = g.node('Softmax', [scores], { axis: -1 });
  g.int64s('axis1', [1], [1]);
  const values = g.node('Unsqueeze', [emb, 'axis1']);
  const heads = g.node('MatMul', [attn, values]); // [B, L, S, 2]
  const lagged = g.node('Transpose', [heads], { perm: [0, 2, 1, 3] });
  g.int64s('lag_shape', [3], [0, S, 2 * L]);
  const lags = g.node('Reshape', [lagged, 'lag_shape']);
  g.int64s('ctx_shape', [3], [1, S, CONTEXT]);
  const ctx = g.node('Expand', [g.node('Unsqueeze', ['context', 'axis1']), 'ctx_shape']);
  let z = g.node('Concat', [lags, ctx], { axis: 2 });
  if (cfg.ffn > 0) {
    g.floats('ffn_w', [fDim(cfg), cfg.ffn], model.ffn.w1);
    g.floats('ffn_b', [cfg.ffn], model.ffn.b1);
    const hidden = g.node('Relu', [g.node('Add', [g.node('MatMul', [z, 'ffn_w']), 'ffn_b'])]);
    z = g.node('Concat', [z, hidden], { axis: 2 });
  }
  const { W, bias } = head(model);
  g.floats('head_w', [zDim(cfg), VOCAB], W);
  g.floats('head_b', [VOCAB], bias);
  g.node('Add', [g.node('MatMul', [z, 'head_w']), 'head_b'], {}, ['logits']);
  g.node('ArgMax', ['logits'], { axis: 2, keepdims: 0 }, ['argmax']);
  g.output('logits', DType.float, ['batch', S, VOCAB]);
  g.output('argmax', DType.int64, ['batch', S]);
  return g.toBytes(`xauto trajectory rollout (${L} heads, ffn ${cfg.ffn}, window ${S}), fitted on the scene simulator`);
}

/** Greedy roll-out of the float64 replica (the fit report; the runtime runs the ONNX model). */
function greedy(model, tr) {
  const { cfg } = model;
  const tokens = new Int32Array(H + T);
  const context = new Float64Array(CONTEXT);
  const ref = tokenise(tr.xs, tr.ys, tr.cls, tokens, 0, context, 0);
  const z = new Float64Array(zDim(model.cfg) + 1);
  const dz = zDim(cfg);
  for (let i = H - 1; i < H + T - 1; i++) {
    features(cfg, model.ffn, tokens, 0, i, context, 0, z);
    let mx = model.M[dz * 2];
    let my = model.M[dz * 2 + 1];
    for (let r = 0; r < dz; r++) {
      mx += z[r] * model.M[r * 2];
      my += z[r] * model.M[r * 2 + 1];
    }
    tokens[i + 1] = tokenise1(mx * QX, my * QY);
  }
  return positions(tr.xs[H], tr.ys[H], ref, tokens, H, T, new Float64Array(2 * T));
}

/** ADE / FDE (m) of the model's greedy roll-outs and of constant velocity (the last step continues). */
export function evaluate(model, data) {
  let ade = 0;
  let fde = 0;
  let cvAde = 0;
  let cvFde = 0;
  for (const tr of data) {
    const p = greedy(model, tr);
    const vx = tr.xs[H] - tr.xs[H - 1];
    const vy = tr.ys[H] - tr.ys[H - 1];
    for (let s = 0; s < T; s++) {
      const gx = tr.xs[H + 1 + s];
      const gy = tr.ys[H + 1 + s];
      const e = Math.hypot(p[2 * s] - gx, p[2 * s + 1] - gy);
      const c = Math.hypot(tr.xs[H] + vx * (s + 1) - gx, tr.ys[H] + vy * (s + 1) - gy);
      ade += e / T;
      cvAde += c / T;
      if (s === T - 1) {
        fde += e;
        cvFde += c;
      }
    }
  }
  const n = data.length;
  return { ade: ade / n, fde: fde / n, cv_ade: cvAde / n, cv_fde: cvFde / n, trajectories: n };
}

export default async function generate(outDir) {
  const train = [...(await trajectories(TRAIN_SEEDS, 0.3)), ...(await trajectories(TRAIN_SEEDS, 0.3, 40, true, DETECTION_NOISE))];
  const held = await trajectories(HELDOUT_SEEDS, 0.5);
  const heldTracked = await trajectories(HELDOUT_SEEDS, 0.5, 40, true, DETECTION_NOISE);
  const target = fit(TARGET, train);
  const draft = fit(DRAFT, train);
  writeFileSync(join(outDir, 'rollout-target.onnx'), modelBytes(target, 'xauto_rollout_target'));
  writeFileSync(join(outDir, 'rollout-draft.onnx'), modelBytes(draft, 'xauto_rollout_draft'));
  const report = { samples: target.samples, heldout: evaluate(target, held), heldout_tracked: evaluate(target, heldTracked), heldout_draft: evaluate(draft, held), sigma: target.sigma };
  writeFileSync(join(outDir, 'rollout.json'), JSON.stringify(report, null, 1));
  const r = report.heldout;
  const n = report.heldout_tracked;
  console.error(`[xauto build] rollout model, held-out ADE/FDE: ${r.ade.toFixed(3)}/${r.fde.toFixed(3)} m (constant velocity ${r.cv_ade.toFixed(3)}/${r.cv_fde.toFixed(3)}); tracker histories ${n.ade.toFixed(3)}/${n.fde.toFixed(3)} m (constant velocity ${n.cv_ade.toFixed(3)}/${n.cv_fde.toFixed(3)}); ${r.trajectories} trajectories`);
}
