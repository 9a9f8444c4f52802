// Descriptors of the application kernels (their arithmetic: kernels_apps_ops.h): what
// training steps and detectors launch around their GEMMs. Several update buffers in place
// (activations, optimizer state, running statistics) and are then not idempotent; the
// scalar conditions (act = identity, lr = 0, momentum = 0, training = 0, beta = 0) are
// declared, so the validator knows at launch which buffers an instance actually touches.
#include <cstring>
#include <vector>

#include "kernels_apps_ops.h"
#include "kernels_build.h"

namespace xdev {
namespace {
using namespace kb;

#define REF(Op) ::xdev::kb::items_in_order<::xdev::ops::Op>

// Plain loops, independent of the ops' block structure (same summation order as the op).
void gemm_ex_ref(const Args& a) {
  const int64_t M = a.i(0), N = a.i(1), K = a.i(2);
  const bool ta = a.i(3) != 0, tb = a.i(4) != 0;
  const float alpha = a.f(5), beta = a.f(6);
  std::vector<float> out(size_t(M * N));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc += (ta ? a.p<float>(7)[k * M + r] : a.p<float>(7)[r * K + k]) * (tb ? a.p<float>(8)[j * K + k] : a.p<float>(8)[k * N + j]);
      out[size_t(r * N + j)] = beta != 0.0f ? alpha * acc + beta * a.p<float>(9)[r * N + j] : alpha * acc;
    }
  std::memcpy(a.p<float>(9), out.data(), out.size() * 4);
}

void im2col_ref(const Args& a) {
  const int64_t C = a.i(0), H = a.i(1), W = a.i(2), k = a.i(3), st = a.i(4), pad = a.i(5), OH = a.i(6), OW = a.i(7);
  float* col = a.p<float>(9);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t ki = 0; ki < k; ++ki)
      for (int64_t kj = 0; kj < k; ++kj)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t h = oh * st - pad + ki, w = ow * st - pad + kj;
            *col++ = h >= 0 && h < H && w >= 0 && w < W ? a.p<float>(8)[(c * H + h) * W + w] : 0.0f;
          }
}

// Marks the scalars whose zero-ness decides an access set (part of the validator's cache key).
KernelDesc conditioned(KernelDesc d) {
  for (const ParamSpec& p : d.params)
    for (int s : {p.read_if_nonzero, p.write_if_nonzero, p.active_if_nonzero})
      if (s >= 0) d.zero_scalars |= 1u << s;
  return d;
}

}  // namespace

void add_app_kernels(std::vector<KernelDesc>& L) {
  auto add = [&](KernelDesc d) { L.push_back(conditioned(std::move(d))); };
  const Access in = kIn, out = kOut, io = kInOut;
  {
    KernelDesc d{"act_inplace", "x = act(x) (act: 0 identity, touching nothing; 1 relu; 2 gelu; 3 sigmoid)",
                 {I("n"), I("act"), B("x", io, "f32", 4, {P(0)})}, kNoSideEffects, HOST(ActInplace), REF(ActInplace)};
    d.params[2].active_if_nonzero = 1;
    add(std::move(d));
  }
  add({"bias_act", "y[r, c] = act(x[r, c] + bias[c]) (act: 0 identity, 1 relu, 2 gelu, 3 sigmoid)",
       {I("rows"), I("cols"), I("act"), B("x", in, "f32", 4, {P(0), P(1)}), B("bias", in, "f32", 4, {P(1)}), B("y", out, "f32", 4, {P(0), P(1)})},
       kNoSideEffects, HOST(BiasAct), REF(BiasAct)});
  add({"act_backward", "dx = dy * act'(y), from the activation's output y (1 relu, 3 sigmoid; else dx = dy)",
       {I("n"), I("act"), B("y", in, "f32", 4, {P(0)}), B("dy", in, "f32", 4, {P(0)}), B("dx", out, "f32", 4, {P(0)})}, kNoSideEffects,
       HOST(ActBackward), REF(ActBackward)});
  {
    KernelDesc d{"relu_backward", "dx = y > 0 ? dy : 0 (a select of dy, element by element: may run in place, dx = dy)",
                 {I("n"), B("y", in, "f32", 4, {P(0)}), B("dy", in, "f32", 4, {P(0)}), B("dx", out, "f32", 4, {P(0)})}, kNoSideEffects,
                 HOST(ReluBackward), REF(ReluBackward)};
    d.params[3].select_of = 2;
    add(std::move(d));
  }
  {
    KernelDesc d{"masked_fill", "x = mask ? v : x, in place (a select of x, element by element)",
                 {I("n"), F("v"), B("mask", in, "u32", 4, {P(0)}), B("x", io, "f32", 4, {P(0)})}, kNoSideEffects, HOST(MaskedFill), REF(MaskedFill)};
    d.params[3].select_of = 3;
    add(std::move(d));
  }
  {
    KernelDesc d{"gemm_ex", "C = alpha*op(A)*op(B) + beta*C, op a transpose when ta / tb (C read only when beta != 0)",
                 {I("M"), I("N"), I("K"), I("ta"), I("tb"), F("alpha"), F("beta"), B("A", in, "f32", 4, {P(0), P(2)}),
                  B("B", in, "f32", 4, {P(2), P(1)}), B("C", io, "f32", 4, {P(0), P(1)})},
                 kNoSideEffects, HOST(GemmEx), gemm_ex_ref};
    d.params[9].read_if_nonzero = 6;
    add(std::move(d));
  }
  add({"softmax_rows", "y = softmax of each row of x; ws = each row's (max, sum), a workspace each row writes before reading",
       {I("rows"), I("cols"), B("x", in, "f32", 4, {P(0), P(1)}), B("ws", out, "f32", 4, {P(0), C(2)}), B("y", out, "f32", 4, {P(0), P(1)})},
       kNoSideEffects, HOST(SoftmaxRows), REF(SoftmaxRows)});
  add({"xent_grad", "dz = scale * (p - onehot(labels)) (the cross-entropy gradient of softmax logits)",
       {I("rows"), I("cols"), F("scale"), B("p", in, "f32", 4, {P(0), P(1)}), B("labels", in, "u32", 4, {P(0)}),
        B("dz", out, "f32", 4, {P(0), P(1)})},
       kNoSideEffects, HOST(XentGrad), REF(XentGrad)});
  add({"col_sum", "out[c] = sum over rows of x[r, c] (bias gradient)",
       {I("rows"), I("cols"), B("x", in, "f32", 4, {P(0), P(1)}), B("out", out, "f32", 4, {P(1)})}, kNoSideEffects, HOST(ColSum), REF(ColSum)});
  {
    KernelDesc d{"sgd_update", "v = momentum*v + g (momentum != 0); w -= lr * (momentum != 0 ? v : g) (lr != 0)",
                 {I("n"), F("lr"), F("momentum"), B("w", io, "f32", 4, {P(0)}), B("g", in, "f32", 4, {P(0)}), B("v", io, "f32", 4, {P(0)})},
                 kNoSideEffects, HOST(SgdUpdate), REF(SgdUpdate)};
    d.params[3].active_if_nonzero = 1;
    d.params[5].active_if_nonzero = 2;
    add(std::move(d));
  }
  add({"adam_update", "Adam: m, v = moving moments of g; w -= lr * (m / c1) / (sqrt(v / c2) + eps)",
       {I("n"), F("lr"), F("b1"), F("b2"), F("eps"), F("c1"), F("c2"), B("w", io, "f32", 4, {P(0)}), B("g", in, "f32", 4, {P(0)}),
        B("m", io, "f32", 4, {P(0)}), B("v", io, "f32", 4, {P(0)})},
       kNoSideEffects, HOST(AdamUpdate), REF(AdamUpdate)});
  {
    KernelDesc d{"batchnorm", "y = per-column normalisation of x; training folds the batch statistics into rmean/rvar, else reads them",
                 {I("rows"), I("cols"), I("training"), F("momentum"), F("eps"), B("x", in, "f32", 4, {P(0), P(1)}), B("gamma", in, "f32", 4, {P(1)}),
                  B("beta", in, "f32", 4, {P(1)}), B("y", out, "f32", 4, {P(0), P(1)}), B("rmean", io, "f32", 4, {P(1)}),
                  B("rvar", io, "f32", 4, {P(1)})},
                 kNoSideEffects, HOST(BatchNorm), REF(BatchNorm)};
    d.params[9].write_if_nonzero = 2;
    d.params[10].write_if_nonzero = 2;
    add(std::move(d));
  }
  add({"im2col", "col (C*k*k rows of OH*OW) = the k x k patches of img (C x H x W), stride and zero padding",
       {I("C"), I("H"), I("W"), I("k", 1), I("stride", 1), I("pad"), I("OH"), I("OW"), B("img", in, "f32", 4, {P(0), P(1), P(2)}),
        B("col", out, "f32", 4, {P(0), P(3), P(3), P(6), P(7)})},
       kNoSideEffects, HOST(Im2col), im2col_ref});
  add({"col2im", "img (C x H x W) = sum of the col entries im2col takes from each pixel (a gather, no atomics)",
       {I("C"), I("H"), I("W"), I("k", 1), I("stride", 1), I("pad"), I("OH"), I("OW"), B("col", in, "f32", 4, {P(0), P(3), P(3), P(6), P(7)}),
        B("img", out, "f32", 4, {P(0), P(1), P(2)})},
       kNoSideEffects, HOST(Col2im), REF(Col2im)});
  add({"fill", "x = v", {I("n"), F("v"), B("x", out, "f32", 4, {P(0)})}, kNoSideEffects, HOST(Fill), REF(Fill)});
  add({"index_add", "dst[k, :] += sum of src[i, :] over idx[i] == k < nrows, in order (the embedding gradient, deterministic)",
       {I("n"), I("dim"), I("nrows"), B("idx", in, "u32", 4, {P(0)}), B("src", in, "f32", 4, {P(0), P(1)}), B("dst", io, "f32", 4, {P(2), P(1)})},
       kNoSideEffects, HOST(IndexAdd), REF(IndexAdd)});
}

}  // namespace xdev
