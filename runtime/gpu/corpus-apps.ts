// An idempotency corpus shaped like real applications: the launch sequences of small models,
// replayed on a caching allocator's pool (corpus-replay.ts), rather than random layouts.
// - mlp: an MLP training step over embedded tokens (gather, causal self-attention with a
//   mask filled in place and a residual add into the input, GEMM + bias + activation, batch
//   norm with running statistics, softmax with a workspace, cross-entropy gradient, backward
//   GEMMs with transposes, gradient accumulation over micro-batches with beta = 1, bias
//   gradients, the embedding gradient (index_add), SGD (momentum, warm-up from lr = 0,
//   frozen layers) or Adam over flat parameter buffers, zeroed gradients, a loss metric with
//   an atomic reduction);
// - conv: a conv net training step (im2col + GEMM per sample, ReLU in place, weight gradient
//   accumulated over the batch, col2im for the input gradient, a residual add into the input);
// - detector: inference of a heatmap detector as the project's detect stage runs it
//   (preprocess, conv backbone with eval-mode batch norm, sigmoid heads, the heatmap decode:
//   hm_init, hm_pass ping-pong, hm_regions).
// Shapes, activations, optimizer settings and in-place choices vary per replay (seeded).
// Batch norm's and attention's backward are left out (gradients flow past them as if they
// were the identity):
// the corpus is about launch and aliasing patterns, not about training to convergence.
import { prng } from './corpus.js';
import { Replay, slice, type AppInstance, type Tensor } from './corpus-replay.js';
import type { Device } from './device.js';

export type { AppInstance } from './corpus-replay.js';

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const floats = (n: number, r: Rng, scale = 1) => Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale);
const POOL = 64 * 1024;

export interface AppsCorpusOptions {
  seed?: number;
  /** At least this many instances (default 5000). */
  instances?: number;
  /** false: only run the launches on their pools (to time the application's own launch path). */
  record?: boolean;
}

function mlp(device: Device, r: Rng, step: number, record: boolean): Replay {
  const B = int(r, 2, 8), V = int(r, 8, 24), D = int(r, 4, 12), H = int(r, 8, 24), C = int(r, 3, 8);
  const act = pick(r, [1, 1, 3]); // backward from the output: relu and sigmoid
  const adam = r() < 0.35, micro = pick(r, [1, 1, 2, 3]), bn = r() < 0.5, training = r() < 0.8 ? 1 : 0;
  const inPlace = r() < 0.5, attention = r() < 0.5;
  const rp = new Replay(device, POOL, `mlp/${adam ? 'adam' : 'sgd'}`, record);
  // Flat parameter, gradient and optimizer-state buffers; each parameter a slice of them.
  const sizes = [V * D, D * H, H, H * C, C];
  const total = sizes.reduce((a, b) => a + b, 0);
  const params = rp.tensor(total, floats(total, r, 0.5));
  const grads = rp.tensor(total, new Float32Array(total));
  const state = [rp.tensor(total, new Float32Array(total)), rp.tensor(total, new Float32Array(total))];
  const offs = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0) * 4);
  const [emb, W1, b1, W2, b2] = sizes.map((n, i) => slice(params, offs[i]!, n * 4)) as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const [dEmb, dW1, db1, dW2, db2] = sizes.map((n, i) => slice(grads, offs[i]!, n * 4)) as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const rmean = rp.tensor(H, new Float32Array(H)), rvar = rp.tensor(H, new Float32Array(H).fill(1));
  const gamma = rp.tensor(H, new Float32Array(H).fill(1)), beta = rp.tensor(H, new Float32Array(H));
  const metric = rp.tensor(1, new Float32Array(1));
  rp.launch('fill', 'zero gradients', { n: total, v: 0, x: grads });
  for (let m = 0; m < micro; m++) {
    const acc = m > 0 ? 1 : 0;
    const tok = rp.tensor(B, Uint32Array.from({ length: B }, () => int(r, 0, V - 1)));
    const labels = rp.tensor(B, Uint32Array.from({ length: B }, () => int(r, 0, C - 1)));
    const gidx = rp.tensor(B * D);
    const tokens = new Uint32Array(B * D);
    const tk = new Uint32Array(rp.pool.buffer.read(new Uint8Array(B * 4), tok.offset).buffer);
    for (let i = 0; i < B * D; i++) tokens[i] = tk[Math.floor(i / D)]! * D + (i % D);
    rp.write(gidx, tokens);
    const x = rp.tensor(B * D);
    rp.launch('gather', 'embedding lookup', { n: B * D, nsrc: V * D, idx: gidx, src: emb, dst: x });
    rp.pool.free(gidx);
    if (attention) {
      // One causal self-attention over the batch's tokens, added to them (residual).
      const scores = rp.tensor(B * B), mask = rp.tensor(B * B, Uint32Array.from({ length: B * B }, (_, i) => Number(i % B > Math.floor(i / B))));
      rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: B, K: D, ta: 0, tb: 1, alpha: 1 / Math.sqrt(D), beta: 0, A: x, B: x, C: scores });
      rp.launch('masked_fill', 'causal mask in place', { n: B * B, v: -1e9, mask, x: scores });
      const ws = rp.tensor(2 * B);
      rp.launch('softmax_rows', 'softmax in place', { rows: B, cols: B, x: scores, ws, y: scores });
      const ctx = rp.tensor(B * D);
      rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: D, K: B, ta: 0, tb: 0, alpha: 1, beta: 0, A: scores, B: x, C: ctx });
      rp.launch('add_inplace', 'residual add into the input', { n: B * D, a: x, b: ctx });
      for (const t of [scores, mask, ws, ctx]) rp.pool.free(t);
    }
    const h = rp.tensor(B * H);
    rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: H, K: D, ta: 0, tb: 0, alpha: 1, beta: 0, A: x, B: W1, C: h });
    let a1 = h;
    if (inPlace) {
      rp.launch('bias_act', 'bias add in place', { rows: B, cols: H, act: 0, x: h, bias: b1, y: h });
      rp.launch('act_inplace', act === 1 ? 'relu in place' : 'activation in place', { n: B * H, act, x: h });
    } else {
      a1 = rp.tensor(B * H);
      rp.launch('bias_act', 'bias + activation', { rows: B, cols: H, act, x: h, bias: b1, y: a1 });
      rp.pool.free(h);
    }
    let z = a1;
    if (bn) {
      z = rp.tensor(B * H);
      const p = training ? 'batchnorm training (running stats)' : 'batchnorm eval';
      rp.launch('batchnorm', p, { rows: B, cols: H, training, momentum: 0.1, eps: 1e-5, x: a1, gamma, beta, y: z, rmean, rvar });
    }
    const logits = rp.tensor(B * C);
    rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: C, K: H, ta: 0, tb: 0, alpha: 1, beta: 0, A: z, B: W2, C: logits });
    rp.launch('bias_act', 'bias add in place', { rows: B, cols: C, act: 0, x: logits, bias: b2, y: logits });
    const ws = rp.tensor(B * 2), prob = inPlace ? logits : rp.tensor(B * C);
    rp.launch('softmax_rows', inPlace ? 'softmax in place' : 'softmax with workspace', { rows: B, cols: C, x: logits, ws, y: prob });
    rp.pool.free(ws);
    rp.launch('reduce_sum', 'metric (atomic reduction)', { n: B * C, x: prob, out: metric });
    const dz = inPlace ? prob : rp.tensor(B * C);
    rp.launch('xent_grad', inPlace ? 'loss gradient in place' : 'loss gradient', { rows: B, cols: C, scale: 1 / (B * micro), p: prob, labels, dz });
    // backward
    rp.launch('gemm_ex', acc ? 'gemm beta=1 (accumulate)' : 'gemm beta=0', { M: H, N: C, K: B, ta: 1, tb: 0, alpha: 1, beta: acc, A: z, B: dz, C: dW2 });
    if (acc) {
      const t = rp.tensor(C);
      rp.launch('col_sum', 'bias gradient', { rows: B, cols: C, x: dz, out: t });
      rp.launch('add_inplace', 'accumulate into gradient', { n: C, a: db2, b: t });
      rp.pool.free(t);
    } else rp.launch('col_sum', 'bias gradient', { rows: B, cols: C, x: dz, out: db2 });
    const da = rp.tensor(B * H);
    rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: H, K: C, ta: 0, tb: 1, alpha: 1, beta: 0, A: dz, B: W2, C: da });
    for (const t of new Set([logits, prob, dz])) rp.pool.free(t);
    if (bn) rp.pool.free(z);
    const dh = inPlace ? da : rp.tensor(B * H);
    if (act === 1) rp.launch('relu_backward', inPlace ? 'relu backward in place' : 'relu backward', { n: B * H, y: a1, dy: da, dx: dh });
    else rp.launch('act_backward', inPlace ? 'activation backward in place' : 'activation backward', { n: B * H, act, y: a1, dy: da, dx: dh });
    rp.launch('gemm_ex', acc ? 'gemm beta=1 (accumulate)' : 'gemm beta=0', { M: D, N: H, K: B, ta: 1, tb: 0, alpha: 1, beta: acc, A: x, B: dh, C: dW1 });
    rp.launch('col_sum', 'bias gradient', { rows: B, cols: H, x: dh, out: db1 });
    const dx = rp.tensor(B * D);
    rp.launch('gemm_ex', 'gemm beta=0', { M: B, N: D, K: H, ta: 0, tb: 1, alpha: 1, beta: 0, A: dh, B: W1, C: dx });
    rp.launch('index_add', 'embedding gradient (index_add)', { n: B, dim: D, nrows: V, idx: tok, src: dx, dst: dEmb });
    for (const t of new Set([x, a1, da, dh, dx, tok, labels])) rp.pool.free(t);
  }
  // optimizer: one launch over the flat buffers, or one per parameter (frozen ones at lr = 0)
  const lr = step % 7 === 0 ? 0 : pick(r, [0.1, 0.01]); // warm-up starts from lr = 0
  const mom = pick(r, [0, 0.9]);
  const perParam = r() < 0.5;
  const groups = perParam ? sizes.map((n, i) => [offs[i]!, n, i === 0 && r() < 0.5 ? 0 : lr] as const) : [[0, total, lr] as const];
  for (const [off, n, glr] of groups) {
    const w = slice(params, off, n * 4), g = slice(grads, off, n * 4), s0 = slice(state[0]!, off, n * 4), s1 = slice(state[1]!, off, n * 4);
    if (adam) rp.launch('adam_update', 'adam (in place)', { n, lr: glr || 0.001, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, w, g, m: s0, v: s1 });
    else rp.launch('sgd_update', `sgd ${glr === 0 ? 'lr=0 (frozen or warm-up)' : 'w -= lr*g'}${mom ? ' momentum' : ''}`, { n, lr: glr, momentum: mom, w, g, v: s0 });
  }
  rp.launch('scale_inplace', 'scale in place', { n: 1, s: 0.5, x: metric });
  return rp;
}

function conv(device: Device, r: Rng, record: boolean): Replay {
  const N = int(r, 1, 3), C0 = int(r, 1, 3), Hh = int(r, 4, 8), Ww = int(r, 4, 8), k = pick(r, [1, 3, 3]), st = pick(r, [1, 1, 2]);
  const pad = k === 3 ? pick(r, [0, 1]) : 0, Co = int(r, 2, 6), Cls = int(r, 2, 5);
  const OH = Math.floor((Hh + 2 * pad - k) / st) + 1, OW = Math.floor((Ww + 2 * pad - k) / st) + 1, P = OH * OW, KK = C0 * k * k;
  const residual = k === 3 && pad === 1 && st === 1 && Co === C0;
  const rp = new Replay(device, POOL, 'conv/train', record);
  const Wc = rp.tensor(Co * KK, floats(Co * KK, r, 0.5)), Wl = rp.tensor(Co * P * Cls, floats(Co * P * Cls, r, 0.2));
  const dWc = rp.tensor(Co * KK), dWl = rp.tensor(Co * P * Cls);
  const vWc = rp.tensor(Co * KK, new Float32Array(Co * KK)), vWl = rp.tensor(Co * P * Cls, new Float32Array(Co * P * Cls));
  const conv = { C: C0, H: Hh, W: Ww, k, stride: st, pad, OH, OW };
  for (let n = 0; n < N; n++) {
    const acc = n > 0 ? 1 : 0;
    const img = rp.tensor(C0 * Hh * Ww, floats(C0 * Hh * Ww, r, 2));
    const label = rp.tensor(1, Uint32Array.of(int(r, 0, Cls - 1)));
    const col = rp.tensor(KK * P);
    rp.launch('im2col', 'im2col', { ...conv, img, col });
    const y = rp.tensor(Co * P);
    rp.launch('gemm_ex', 'gemm beta=0', { M: Co, N: P, K: KK, ta: 0, tb: 0, alpha: 1, beta: 0, A: Wc, B: col, C: y });
    rp.launch('act_inplace', 'relu in place', { n: Co * P, act: 1, x: y });
    if (residual) rp.launch('add_inplace', 'residual add into the input', { n: Co * P, a: y, b: img });
    const logits = rp.tensor(Cls);
    rp.launch('gemm_ex', 'gemm beta=0', { M: 1, N: Cls, K: Co * P, ta: 0, tb: 0, alpha: 1, beta: 0, A: y, B: Wl, C: logits });
    const ws = rp.tensor(2), prob = rp.tensor(Cls);
    rp.launch('softmax_rows', 'softmax with workspace', { rows: 1, cols: Cls, x: logits, ws, y: prob });
    rp.pool.free(ws);
    rp.pool.free(logits);
    rp.launch('xent_grad', 'loss gradient in place', { rows: 1, cols: Cls, scale: 1 / N, p: prob, labels: label, dz: prob });
    rp.launch('gemm_ex', acc ? 'gemm beta=1 (accumulate)' : 'gemm beta=0', { M: Co * P, N: Cls, K: 1, ta: 1, tb: 0, alpha: 1, beta: acc, A: y, B: prob, C: dWl });
    const dy = rp.tensor(Co * P);
    rp.launch('gemm_ex', 'gemm beta=0', { M: 1, N: Co * P, K: Cls, ta: 0, tb: 1, alpha: 1, beta: 0, A: prob, B: Wl, C: dy });
    rp.launch('relu_backward', 'relu backward in place', { n: Co * P, y, dy, dx: dy });
    rp.launch('gemm_ex', acc ? 'gemm beta=1 (accumulate)' : 'gemm beta=0', { M: Co, N: KK, K: P, ta: 0, tb: 1, alpha: 1, beta: acc, A: dy, B: col, C: dWc });
    // the input gradient: col2im of W^T dy, into the buffer im2col's columns just left
    rp.launch('gemm_ex', 'gemm beta=0 (over a dead input)', { M: KK, N: P, K: Co, ta: 1, tb: 0, alpha: 1, beta: 0, A: Wc, B: dy, C: col });
    const dimg = rp.tensor(C0 * Hh * Ww);
    rp.launch('col2im', 'col2im', { ...conv, col, img: dimg });
    for (const t of [img, label, col, y, prob, dy, dimg]) rp.pool.free(t);
  }
  const lr = pick(r, [0.05, 0.01, 0]), mom = pick(r, [0, 0.9]);
  rp.launch('sgd_update', `sgd ${lr === 0 ? 'lr=0 (frozen or warm-up)' : 'w -= lr*g'}${mom ? ' momentum' : ''}`, { n: Co * KK, lr, momentum: mom, w: Wc, g: dWc, v: vWc });
  rp.launch('sgd_update', `sgd ${lr === 0 ? 'lr=0 (frozen or warm-up)' : 'w -= lr*g'}${mom ? ' momentum' : ''}`, { n: Co * P * Cls, lr, momentum: mom, w: Wl, g: dWl, v: vWl });
  return rp;
}

function detector(device: Device, r: Rng, record: boolean): Replay {
  const sw = int(r, 6, 14), sh = int(r, 6, 12), dw = int(r, 4, 8), dh = int(r, 4, 8), F1 = int(r, 2, 4), Cls = int(r, 1, 2);
  const rp = new Replay(device, POOL, 'detector/infer', record);
  const imgBytes = sw * sh * 3;
  const src = rp.pool.alloc(imgBytes);
  rp.pool.buffer.write(Uint8Array.from({ length: imgBytes }, () => int(r, 0, 255)), src.offset);
  const x = rp.tensor(3 * dw * dh);
  rp.launch('preprocess', 'preprocess', { sw, sh, step: sw * 3, c0: pick(r, [0, 2]), dw, dh, src, dst: x, k0: 0.017, k1: 0.0175, k2: 0.0174, b0: -2.1, b1: -2.03, b2: -1.8 });
  const cv = { C: 3, H: dh, W: dw, k: 3, stride: 1, pad: 1, OH: dh, OW: dw };
  const P = dh * dw;
  const Wb = rp.tensor(F1 * 27, floats(F1 * 27, r, 0.3)), Wh = rp.tensor(Cls * F1, floats(Cls * F1, r, 1));
  const gamma = rp.tensor(P, new Float32Array(P).fill(1)), beta = rp.tensor(P, floats(P, r, 0.1));
  const rmean = rp.tensor(P, floats(P, r, 0.1)), rvar = rp.tensor(P, new Float32Array(P).fill(1));
  const col = rp.tensor(27 * P);
  rp.launch('im2col', 'im2col', { ...cv, img: x, col });
  const f = rp.tensor(F1 * P);
  rp.launch('gemm_ex', 'gemm beta=0', { M: F1, N: P, K: 27, ta: 0, tb: 0, alpha: 1, beta: 0, A: Wb, B: col, C: f });
  rp.pool.free(col);
  const fn = rp.tensor(F1 * P);
  rp.launch('batchnorm', 'batchnorm eval', { rows: F1, cols: P, training: 0, momentum: 0.1, eps: 1e-5, x: f, gamma, beta, y: fn, rmean, rvar });
  rp.launch('act_inplace', 'relu in place', { n: F1 * P, act: 1, x: fn });
  rp.pool.free(f);
  const heat = rp.tensor(Cls * P);
  rp.launch('gemm_ex', 'gemm beta=0', { M: Cls, N: P, K: F1, ta: 0, tb: 0, alpha: 1, beta: 0, A: Wh, B: fn, C: heat });
  rp.launch('act_inplace', 'sigmoid in place', { n: Cls * P, act: 3, x: heat });
  rp.launch('act_inplace', 'identity activation (no-op)', { n: Cls * P, act: 0, x: heat });
  const thr = pick(r, [0.3, 0.5, 0.6]);
  const lab = [rp.tensor(Cls * P), rp.tensor(Cls * P)];
  rp.launch('hm_init', 'heatmap seeds', { total: Cls * P, thr, heat, lab: lab[0]! });
  for (let i = 0; i < 3; i++) rp.launch('hm_pass', 'label propagation (ping-pong)', { C: Cls, h: dh, w: dw, thr, heat, lin: lab[i % 2]!, lout: lab[(i + 1) % 2]! });
  const rows = rp.tensor(Cls * P * 6), keep = rp.tensor(Cls * P);
  rp.launch('hm_regions', 'regions', { C: Cls, h: dh, w: dw, min_cells: 1, stride_x: 4, stride_y: 4, heat, lab: lab[1]!, rows, keep });
  return rp;
}

/** Replays the models, with varied shapes and settings, until `instances` are recorded. */
export function buildAppsCorpus(device: Device, opts: AppsCorpusOptions = {}): AppInstance[] {
  return replayApps(device, opts).instances;
}

/** The replays behind buildAppsCorpus; with `record: false`, only the launch count. */
export function replayApps(device: Device, opts: AppsCorpusOptions = {}): { instances: AppInstance[]; launches: number } {
  const r = prng(opts.seed ?? 1);
  const want = opts.instances ?? 5000, record = opts.record ?? true;
  const out: AppInstance[] = [];
  let launches = 0;
  for (let step = 0; launches < want; step++) {
    const kind = step % 3;
    const rp = kind === 0 ? mlp(device, r, step, record) : kind === 1 ? conv(device, r, record) : detector(device, r, record);
    launches += rp.launches;
    out.push(...rp.close());
  }
  return { instances: out, launches };
}
