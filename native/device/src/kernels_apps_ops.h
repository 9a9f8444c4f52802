// Kernels that training and inference applications launch around their GEMMs (activations in
// place, bias + activation, softmax with a workspace, cross-entropy gradient, column sums,
// optimizer updates, batch norm with running statistics, im2col/col2im, fill, index_add,
// selects), as
// ops of the kernel library (see kernels_ops.h), written once for the host and CUDA backends.
//
// Two descriptor conditions these ops honour exactly (the validator relies on them):
// - `active_if_nonzero`: the buffer is neither read nor written when that scalar is 0
//   (act_inplace with act = identity, sgd's weights with lr = 0 and velocity with momentum = 0);
// - `write_if_nonzero`: the inout buffer is only read when that scalar is 0 (batchnorm's
//   running statistics outside training).
// softmax_rows' workspace is an `out` buffer that each item reads only after writing it (its
// own two floats): a relaunch rewrites it before reading it.
// - `select_of`: relu_backward's dx and masked_fill's x take, element by element, either the
//   value read at that same element or one computed without reading it.
#pragma once
#include "kernels_ops.h"

namespace xdev {
namespace ops {

// e^x from +, *, floor and an exact power-of-two scaling only, so the host and CUDA backends
// (built without FMA contraction) produce the same bits (expf differs by an ulp or two).
XDEV_HD float exp_same(float x) {
  if (!(x > -87.0f)) return x != x ? x : 0.0f;  // NaN stays NaN; far below: 0
  if (x > 88.0f) return INFINITY;
  const float n = floorf(x * 1.44269504f + 0.5f);
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;  // ln 2 split: exact n * hi
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return ldexpf(p, int(n));
}

// Activation codes: 0 identity, 1 relu, 2 gelu (tanh form), 3 sigmoid.
XDEV_HD float activate(float v, int64_t act) {
  if (act == 1) return v > 0.0f ? v : 0.0f;
  if (act == 2) return v - v / (exp_same(1.5957691216f * (v + 0.044715f * v * v * v)) + 1.0f);  // 0.5 v (1 + tanh u)
  if (act == 3) return 1.0f / (1.0f + exp_same(-v));
  return v;
}

// A row-major rows x cols result (scalars 0 and 1), one block per row, one item per element.
struct RowMajor {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 1); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 0)); }
};

// act_inplace(n, act, x): x = act(x); touches nothing for the identity.
struct ActInplace : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t act = I(a, 1);
    if (act == 0) return;
    float* x = P<float>(a, 2);
    x[i] = activate(x[i], act);
  }
};

// bias_act(rows, cols, act, x, bias, y): y[r, c] = act(x[r, c] + bias[c]); one block per row.
struct BiasAct : RowMajor {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t c = i % I(a, 1);
    P<float>(a, 5)[i] = activate(P<float>(a, 3)[i] + P<float>(a, 4)[c], I(a, 2));
  }
};

// act_backward(n, act, y, dy, dx): dx = dy * act'(from the output y) (relu, sigmoid; else dy).
struct ActBackward : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t act = I(a, 1);
    const float y = P<float>(a, 2)[i], g = P<float>(a, 3)[i];
    P<float>(a, 4)[i] = act == 1 ? (y > 0.0f ? g : 0.0f) : act == 3 ? g * y * (1.0f - y) : g;
  }
};

// relu_backward(n, y, dy, dx): dx = y > 0 ? dy : 0 (a select: often run in place, dx = dy).
struct ReluBackward : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    float* dx = P<float>(a, 3);
    if (P<float>(a, 1)[i] > 0.0f) dx[i] = P<float>(a, 2)[i];
    else dx[i] = 0.0f;
  }
};

// masked_fill(n, v, mask, x): x = mask ? v : x, in place (attention masks).
struct MaskedFill : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    if (P<uint32_t>(a, 2)[i] != 0) P<float>(a, 3)[i] = F(a, 1);
  }
};

// gemm_ex(M, N, K, ta, tb, alpha, beta, A, B, C): C = alpha * op(A) op(B) + beta * C, op a
// transpose when its flag is set (A stored K x M, B stored N x K); C read only when beta != 0.
struct GemmEx : RowMajor {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t M = I(a, 0), N = I(a, 1), K = I(a, 2), r = i / N, j = i % N;
    const bool ta = I(a, 3) != 0, tb = I(a, 4) != 0;
    const float alpha = F(a, 5), beta = F(a, 6);
    const float* A = P<float>(a, 7);
    const float* B = P<float>(a, 8);
    float acc = 0.0f;
    for (int64_t k = 0; k < K; ++k) acc += (ta ? A[k * M + r] : A[r * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
    float* C = P<float>(a, 9);
    C[i] = beta != 0.0f ? alpha * acc + beta * C[i] : alpha * acc;
  }
};

// softmax_rows(rows, cols, x, ws, y): y = softmax of each row; ws[2r], ws[2r+1] hold the row's
// max and sum (written, then read, by the row's own item). One item (and block) per row.
struct SoftmaxRows {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0); }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t r) {
    const int64_t cols = I(a, 1);
    const float* x = P<float>(a, 2) + r * cols;
    float* ws = P<float>(a, 3) + 2 * r;
    float* y = P<float>(a, 4) + r * cols;
    float m = -INFINITY;
    for (int64_t c = 0; c < cols; ++c) m = fmaxf(m, x[c]);
    ws[0] = m;
    float s = 0.0f;
    for (int64_t c = 0; c < cols; ++c) s += exp_same(x[c] - ws[0]);
    ws[1] = s;
    for (int64_t c = 0; c < cols; ++c) y[c] = exp_same(x[c] - ws[0]) / ws[1];
  }
};

// xent_grad(rows, cols, scale, p, labels, dz): dz = scale * (p - onehot(label)); one block per row.
struct XentGrad : RowMajor {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t cols = I(a, 1), r = i / cols, c = i % cols;
    const float hot = int64_t(P<uint32_t>(a, 4)[r]) == c ? 1.0f : 0.0f;
    P<float>(a, 5)[i] = F(a, 2) * (P<float>(a, 3)[i] - hot);
  }
};

// col_sum(rows, cols, x, out): out[c] = sum over rows of x[r, c] (the bias gradient).
struct ColSum {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static int64_t per(const Args&) { return 16; }
  XDEV_HD static void item(const Args& a, int64_t c) {
    const int64_t rows = I(a, 0), cols = I(a, 1);
    float s = 0.0f;
    for (int64_t r = 0; r < rows; ++r) s += P<float>(a, 2)[r * cols + c];
    P<float>(a, 3)[c] = s;
  }
};

// sgd_update(n, lr, momentum, w, g, v): v = momentum * v + g (only when momentum != 0);
// w -= lr * (momentum != 0 ? v : g) (only when lr != 0).
struct SgdUpdate : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const float lr = F(a, 1), mom = F(a, 2);
    float d = P<float>(a, 4)[i];
    if (mom != 0.0f) {
      float* v = P<float>(a, 5);
      v[i] = mom * v[i] + d;
      d = v[i];
    }
    if (lr != 0.0f) P<float>(a, 3)[i] -= lr * d;
  }
};

// adam_update(n, lr, b1, b2, eps, c1, c2, w, g, m, v): Adam with bias corrections c1, c2.
struct AdamUpdate : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const float b1 = F(a, 2), b2 = F(a, 3), g = P<float>(a, 8)[i];
    float* m = P<float>(a, 9);
    float* v = P<float>(a, 10);
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    P<float>(a, 7)[i] -= F(a, 1) * (m[i] / F(a, 5)) / (sqrtf(v[i] / F(a, 6)) + F(a, 4));
  }
};

// batchnorm(rows, cols, training, momentum, eps, x, gamma, beta, y, rmean, rvar): per column,
// normalise with the batch statistics and fold them into the running ones (training), or
// normalise with the running statistics, which are then only read. One item per column.
struct BatchNorm {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static int64_t per(const Args&) { return 8; }
  XDEV_HD static void item(const Args& a, int64_t c) {
    const int64_t rows = I(a, 0), cols = I(a, 1);
    const bool training = I(a, 2) != 0;
    const float mom = F(a, 3), eps = F(a, 4);
    const float* x = P<float>(a, 5);
    float* rmean = P<float>(a, 9);
    float* rvar = P<float>(a, 10);
    float mean = rmean[c], var = rvar[c];
    if (training) {
      float s = 0.0f, q = 0.0f;
      for (int64_t r = 0; r < rows; ++r) s += x[r * cols + c];
      mean = rows > 0 ? s / float(rows) : 0.0f;
      for (int64_t r = 0; r < rows; ++r) q += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
      var = rows > 0 ? q / float(rows) : 0.0f;
      rmean[c] = (1.0f - mom) * rmean[c] + mom * mean;
      rvar[c] = (1.0f - mom) * rvar[c] + mom * var;
    }
    const float k = P<float>(a, 6)[c] / sqrtf(var + eps), b = P<float>(a, 7)[c];
    for (int64_t r = 0; r < rows; ++r) P<float>(a, 8)[r * cols + c] = (x[r * cols + c] - mean) * k + b;
  }
};

// im2col(C, H, W, k, stride, pad, OH, OW, img, col): col[(c k k + ki k + kj), (oh OW + ow)] =
// img[c, oh*stride - pad + ki, ow*stride - pad + kj] (0 outside). One block per column row.
struct Im2col {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 3) * I(a, 3) * I(a, 6) * I(a, 7); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 6) * I(a, 7); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 0) * I(a, 3) * I(a, 3)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t H = I(a, 1), W = I(a, 2), k = I(a, 3), st = I(a, 4), pad = I(a, 5), OW = I(a, 7), OHW = I(a, 6) * OW;
    const int64_t row = i / OHW, p = i % OHW, c = row / (k * k), ki = (row / k) % k, kj = row % k;
    const int64_t h = (p / OW) * st - pad + ki, w = (p % OW) * st - pad + kj;
    P<float>(a, 9)[i] = h >= 0 && h < H && w >= 0 && w < W ? P<float>(a, 8)[(c * H + h) * W + w] : 0.0f;
  }
};

// col2im(C, H, W, k, stride, pad, OH, OW, col, img): img[c, h, w] = sum of the col entries
// im2col would have taken from it (a gather per pixel: no atomics). One block per channel.
struct Col2im {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1) * I(a, 2); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 1) * I(a, 2); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 0)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t H = I(a, 1), W = I(a, 2), k = I(a, 3), st = I(a, 4), pad = I(a, 5), OH = I(a, 6), OW = I(a, 7);
    const int64_t c = i / (H * W), h = (i / W) % H, w = i % W;
    float s = 0.0f;
    for (int64_t ki = 0; ki < k; ++ki) {
      const int64_t hh = h + pad - ki;
      if (hh < 0 || hh % st != 0 || hh / st >= OH) continue;
      for (int64_t kj = 0; kj < k; ++kj) {
        const int64_t ww = w + pad - kj;
        if (ww < 0 || ww % st != 0 || ww / st >= OW) continue;
        s += P<float>(a, 8)[((c * k + ki) * k + kj) * OH * OW + (hh / st) * OW + ww / st];
      }
    }
    P<float>(a, 9)[i] = s;
  }
};

// fill(n, v, x): x = v (zeroing gradients, accumulators).
struct Fill : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 2)[i] = F(a, 1); }
};

// index_add(n, dim, nrows, idx, src, dst): dst[k, :] += sum of src[i, :] over i with
// idx[i] == k (the embedding gradient). Deterministic: one item per destination element adds
// its sources in order (no atomics), so every backend gives the same bits.
struct IndexAdd {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 2) * I(a, 1); }
  XDEV_HD static int64_t per(const Args&) { return 64; }
  XDEV_HD static void item(const Args& a, int64_t e) {
    const int64_t n = I(a, 0), dim = I(a, 1), k = e / dim, d = e % dim;
    const uint32_t* idx = P<uint32_t>(a, 3);
    float s = P<float>(a, 5)[e];
    for (int64_t i = 0; i < n; ++i)
      if (int64_t(idx[i]) == k) s += P<float>(a, 4)[i * dim + d];
    P<float>(a, 5)[e] = s;
  }
};

}  // namespace ops
}  // namespace xdev

// The CUDA backend's table entries for these ops (one line there).
#define XDEV_APPS_OPS                                                                                                       \
  OP("act_inplace", ActInplace), OP("bias_act", BiasAct), OP("act_backward", ActBackward), OP("relu_backward", ReluBackward), OP("masked_fill", MaskedFill), OP("gemm_ex", GemmEx),           \
      OP("softmax_rows", SoftmaxRows), OP("xent_grad", XentGrad), OP("col_sum", ColSum), OP("sgd_update", SgdUpdate),       \
      OP("adam_update", AdamUpdate), OP("batchnorm", BatchNorm), OP("im2col", Im2col), OP("col2im", Col2im), OP("fill", Fill), \
      OP("index_add", IndexAdd)
