// Random scalar arguments of the application kernels (kernels_apps.cc) for the layout corpus
// (corpus.ts), which launches every kernel of the library on separate, aliased and pooled
// buffers: the check that their descriptors are honest. Corners included: act = identity,
// lr = 0, momentum = 0, training = 0, beta = 0.
type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function conv(r: Rng): Record<string, number> {
  const C = int(r, 1, 3), H = int(r, 1, 7), W = int(r, 1, 7), k = pick(r, [1, 2, 3]), stride = pick(r, [1, 1, 2]), pad = pick(r, [0, 1]);
  const OH = Math.max(0, Math.floor((H + 2 * pad - k) / stride) + 1), OW = Math.max(0, Math.floor((W + 2 * pad - k) / stride) + 1);
  return { C, H, W, k, stride, pad, OH, OW };
}

export const appScalars: Record<string, (r: Rng) => Record<string, number>> = {
  act_inplace: (r) => ({ n: int(r, 1, 300), act: pick(r, [0, 1, 2, 3]) }),
  bias_act: (r) => ({ rows: int(r, 1, 8), cols: int(r, 1, 40), act: pick(r, [0, 1, 2, 3]) }),
  relu_backward: (r) => ({ n: int(r, 1, 300) }),
  masked_fill: (r) => ({ n: int(r, 1, 300), v: pick(r, [0, -1e9]) }),
  act_backward: (r) => ({ n: int(r, 1, 300), act: pick(r, [0, 1, 3]) }),
  gemm_ex: (r) => ({ M: int(r, 1, 8), N: int(r, 1, 12), K: int(r, 1, 10), ta: pick(r, [0, 1]), tb: pick(r, [0, 1]), alpha: pick(r, [1, -1]), beta: pick(r, [0, 0, 1]) }),
  softmax_rows: (r) => ({ rows: int(r, 1, 12), cols: int(r, 1, 20) }),
  xent_grad: (r) => ({ rows: int(r, 1, 12), cols: int(r, 1, 12), scale: 0.125 }),
  col_sum: (r) => ({ rows: int(r, 1, 12), cols: int(r, 1, 40) }),
  sgd_update: (r) => ({ n: int(r, 1, 300), lr: pick(r, [0.1, 0.01, 0]), momentum: pick(r, [0, 0.9]) }),
  adam_update: (r) => ({ n: int(r, 1, 300), lr: 0.001, b1: 0.9, b2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001 }),
  batchnorm: (r) => ({ rows: int(r, 1, 12), cols: int(r, 1, 20), training: pick(r, [0, 1]), momentum: 0.1, eps: 1e-5 }),
  im2col: conv,
  col2im: conv,
  fill: (r) => ({ n: int(r, 1, 300), v: pick(r, [0, 1]) }),
  index_add: (r) => ({ n: int(r, 1, 40), dim: int(r, 1, 8), nrows: int(r, 1, 30) }),
};
