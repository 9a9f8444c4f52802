// The kernel library. Each kernel is an op (kernels_ops.h: its blocks, the unit a launch can be
// stopped between, written once for every backend) plus a plain sequential reference used by
// tests, and a descriptor
// saying exactly which bytes each buffer argument touches. A kernel must read and write only
// inside its declared extents, and must not read an `out` buffer: the idempotency validator
// trusts the descriptor, and the brute-force check in the tests verifies that trust.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "kernels_build.h"

namespace xdev {
namespace {
using namespace kb;

// ---- elementwise -------------------------------------------------------------------------
// saxpy(n, a, x, incx, y, incy): y[i*incy] = a * x[i*incx] + y[i*incy]
void saxpy_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(4)[i * a.i(5)] = a.f(1) * a.p<float>(2)[i * a.i(3)] + a.p<float>(4)[i * a.i(5)];
}

// add(n, a, b, c): c = a + b
void add_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(3)[i] = a.p<float>(1)[i] + a.p<float>(2)[i];
}

// add_inplace(n, a, b): a += b
void add_inplace_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(1)[i] += a.p<float>(2)[i];
}

// scale(n, s, x, y): y = s * x
void scale_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(3)[i] = a.f(1) * a.p<float>(2)[i];
}

// scale_inplace(n, s, x): x *= s
void scale_inplace_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(2)[i] *= a.f(1);
}

float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// clamp(n, lo, hi, x, y): y = min(max(x, lo), hi)
void clamp_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(4)[i] = clampf(a.p<float>(3)[i], a.f(1), a.f(2));
}

// clamp_inplace(n, lo, hi, x)
void clamp_inplace_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(3)[i] = clampf(a.p<float>(3)[i], a.f(1), a.f(2));
}

// copy(bytes, src, dst): forward byte copy, block by block (overlap behaves like a kernel would)
void copy_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) a.p<uint8_t>(2)[i] = a.p<uint8_t>(1)[i];
}

// ---- images ------------------------------------------------------------------------------
// resize_bilinear(sw, sh, dw, dh, ch, src u8 HWC, dst u8 HWC); one block per destination row
uint8_t bilinear(const uint8_t* src, int64_t sw, int64_t sh, int64_t ch, int64_t dw, int64_t dh, int64_t x, int64_t y, int64_t c) {
  float fx = (float(x) + 0.5f) * float(sw) / float(dw) - 0.5f;
  float fy = (float(y) + 0.5f) * float(sh) / float(dh) - 0.5f;
  fx = std::max(0.0f, std::min(fx, float(sw - 1)));
  fy = std::max(0.0f, std::min(fy, float(sh - 1)));
  int64_t x0 = int64_t(fx), y0 = int64_t(fy);
  int64_t x1 = std::min(x0 + 1, sw - 1), y1 = std::min(y0 + 1, sh - 1);
  float ax = fx - float(x0), ay = fy - float(y0);
  auto at = [&](int64_t xx, int64_t yy) { return float(src[(yy * sw + xx) * ch + c]); };
  float top = at(x0, y0) * (1 - ax) + at(x1, y0) * ax;
  float bot = at(x0, y1) * (1 - ax) + at(x1, y1) * ax;
  float v = top * (1 - ay) + bot * ay;
  return uint8_t(std::lround(std::max(0.0f, std::min(255.0f, v))));
}
void resize_ref(const Args& a) {
  int64_t sw = a.i(0), sh = a.i(1), dw = a.i(2), dh = a.i(3), ch = a.i(4);
  if (sw == 0 || sh == 0) return;
  for (int64_t y = 0; y < dh; ++y)
    for (int64_t x = 0; x < dw; ++x)
      for (int64_t c = 0; c < ch; ++c)
        a.p<uint8_t>(6)[(y * dw + x) * ch + c] = bilinear(a.p<uint8_t>(5), sw, sh, ch, dw, dh, x, y, c);
}

// normalize(w, h, src u8 HWC3, dst f32 CHW3, m0, m1, m2, s0, s1, s2): dst = (src/255 - m) / s
void normalize_ref(const Args& a) {
  int64_t w = a.i(0), h = a.i(1);
  for (int c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        a.p<float>(3)[c * w * h + y * w + x] = (float(a.p<uint8_t>(2)[(y * w + x) * 3 + c]) / 255.0f - a.f(4 + c)) / a.f(7 + c);
}

// ---- GEMM --------------------------------------------------------------------------------
// gemm(M, N, K, alpha, beta, A MxK, B KxN, C MxN), row-major: C = alpha*A*B + beta*C.
// One block per row of C. C is read only when beta != 0.
void gemm_ref(const Args& a) {
  int64_t M = a.i(0), N = a.i(1), K = a.i(2);
  float alpha = a.f(3), beta = a.f(4);
  std::vector<float> out(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k) s += a.p<float>(5)[i * K + k] * a.p<float>(6)[k * N + j];
      out[size_t(i * N + j)] = beta != 0.0f ? alpha * s + beta * a.p<float>(7)[i * N + j] : alpha * s;
    }
  std::memcpy(a.p<float>(7), out.data(), out.size() * 4);
}

// ---- reductions and atomics ----------------------------------------------------------------
// reduce_sum(n, x, out[1]): out += sum(x), one atomic add per block
void reduce_sum_ref(const Args& a) {
  double s = 0;
  for (int64_t i = 0; i < a.i(0); ++i) s += a.p<float>(1)[i];
  a.p<float>(2)[0] += float(s);
}

int64_t hist_bin(float v, float lo, float hi, int64_t bins) {
  if (!(v >= lo) || !(v < hi)) return -1;
  int64_t k = int64_t((v - lo) / (hi - lo) * float(bins));
  return std::min(k, bins - 1);
}
// histogram(n, bins, lo, hi, x, hist u32[bins]): hist[bin(x)] += 1 atomically
void histogram_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) {
    int64_t k = hist_bin(a.p<float>(4)[i], a.f(2), a.f(3), a.i(1));
    if (k >= 0) a.p<uint32_t>(5)[k] += 1;
  }
}

int64_t voxel_of(const float* p, const Args& a) {
  int64_t nx = a.i(2), ny = a.i(3), nz = a.i(4);
  float vs = a.f(5);
  if (!(vs > 0)) return -1;
  float fx = std::floor((p[0] - a.f(6)) / vs), fy = std::floor((p[1] - a.f(7)) / vs), fz = std::floor((p[2] - a.f(8)) / vs);
  if (!(fx >= 0 && fy >= 0 && fz >= 0 && fx < float(nx) && fy < float(ny) && fz < float(nz))) return -1;
  return (int64_t(fz) * ny + int64_t(fy)) * nx + int64_t(fx);
}
// voxel_scatter(n, pts xyz, nx, ny, nz, vsize, ox, oy, oz, counts u32[nx*ny*nz])
void voxel_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) {
    int64_t v = voxel_of(a.p<float>(1) + i * 3, a);
    if (v >= 0) a.p<uint32_t>(9)[v] += 1;
  }
}

// ---- geometry ------------------------------------------------------------------------------
// point_transform(n, T[12] row-major 3x4, src xyz, dst xyz): dst = R*src + t
void transform_one(const float* T, const float* s, float* d) {
  float x = s[0], y = s[1], z = s[2];
  float o0 = T[0] * x + T[1] * y + T[2] * z + T[3];
  float o1 = T[4] * x + T[5] * y + T[6] * z + T[7];
  float o2 = T[8] * x + T[9] * y + T[10] * z + T[11];
  d[0] = o0;
  d[1] = o1;
  d[2] = o2;
}
void transform_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) transform_one(a.p<float>(1), a.p<float>(2) + i * 3, a.p<float>(3) + i * 3);
}

// ---- scans, gather, scatter ------------------------------------------------------------------
// prefix_sum(n, x, y): inclusive scan; each block continues from the previous block's last
// output, so y is read as well as written (declared inout).
void prefix_ref(const Args& a) {
  float run = 0;
  std::vector<float> out(size_t(a.i(0)));
  for (int64_t i = 0; i < a.i(0); ++i) out[size_t(i)] = run += a.p<float>(1)[i];
  std::memcpy(a.p<float>(2), out.data(), out.size() * 4);
}

// gather(n, nsrc, idx u32[n], src f32[nsrc], dst f32[n]): dst[i] = src[idx[i]] (0 when out of range)
void gather_ref(const Args& a) {
  std::vector<float> out(size_t(a.i(0)));
  for (int64_t i = 0; i < a.i(0); ++i) {
    uint32_t k = a.p<uint32_t>(2)[i];
    out[size_t(i)] = k < uint64_t(a.i(1)) ? a.p<float>(3)[k] : 0.0f;
  }
  std::memcpy(a.p<float>(4), out.data(), out.size() * 4);
}

// scatter(n, ndst, idx u32[n], src f32[n], dst f32[ndst]): dst[idx[i]] = src[i] (skipped when out of range)
void scatter_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i) {
    uint32_t k = a.p<uint32_t>(2)[i];
    if (k < uint64_t(a.i(1))) a.p<float>(4)[k] = a.p<float>(3)[i];
  }
}

// ---- kernels with side effects ----------------------------------------------------------------
// rng_uniform(n, state u64[1], out f32[n]): xorshift64*, the state advances with every number
float next_uniform(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return float((s * 2685821657736338717ull) >> 40) / float(1 << 24);
}
void rng_ref(const Args& a) {
  uint64_t s = a.p<uint64_t>(1)[0];
  for (int64_t i = 0; i < a.i(0); ++i) a.p<float>(2)[i] = next_uniform(s);
  a.p<uint64_t>(1)[0] = s;
}

// below_signal(n, thr, x, flag u32[1] host-visible): flag = 1 as soon as some x < thr
void signal_ref(const Args& a) {
  for (int64_t i = 0; i < a.i(0); ++i)
    if (a.p<float>(2)[i] < a.f(1)) a.p<uint32_t>(3)[0] = 1;
}



std::vector<KernelDesc> build() {
  std::vector<KernelDesc> L;
  auto add = [&](KernelDesc d) { L.push_back(std::move(d)); };
  add({"saxpy", "y[i*incy] = a*x[i*incx] + y[i*incy]",
       {I("n"), F("a"), B("x", kIn, "f32", 4, {P(0)}, P(3)), I("incx", 1), B("y", kInOut, "f32", 4, {P(0)}, P(5)), I("incy", 1)},
       kNoSideEffects, HOST(Saxpy), saxpy_ref});
  add({"add", "c = a + b", {I("n"), B("a", kIn, "f32", 4, {P(0)}), B("b", kIn, "f32", 4, {P(0)}), B("c", kOut, "f32", 4, {P(0)})},
       kNoSideEffects, HOST(Add), add_ref});
  add({"add_inplace", "a += b", {I("n"), B("a", kInOut, "f32", 4, {P(0)}), B("b", kIn, "f32", 4, {P(0)})}, kNoSideEffects,
       HOST(AddInplace), add_inplace_ref});
  add({"scale", "y = s*x", {I("n"), F("s"), B("x", kIn, "f32", 4, {P(0)}), B("y", kOut, "f32", 4, {P(0)})}, kNoSideEffects,
       HOST(Scale), scale_ref});
  add({"scale_inplace", "x *= s", {I("n"), F("s"), B("x", kInOut, "f32", 4, {P(0)})}, kNoSideEffects, 
       HOST(ScaleInplace), scale_inplace_ref});
  add({"clamp", "y = min(max(x, lo), hi)",
       {I("n"), F("lo"), F("hi"), B("x", kIn, "f32", 4, {P(0)}), B("y", kOut, "f32", 4, {P(0)})}, kNoSideEffects, 
       HOST(Clamp), clamp_ref});
  add({"clamp_inplace", "x = min(max(x, lo), hi)", {I("n"), F("lo"), F("hi"), B("x", kInOut, "f32", 4, {P(0)})},
       kNoSideEffects, HOST(ClampInplace), clamp_inplace_ref});
  add({"copy", "dst[0..bytes) = src[0..bytes), forward", {I("bytes"), B("src", kIn, "u8", 1, {P(0)}), B("dst", kOut, "u8", 1, {P(0)})},
       kNoSideEffects, HOST(Copy), copy_ref});
  add({"resize_bilinear", "dst (dw x dh x ch, u8) = bilinear resize of src (sw x sh x ch, u8)",
       {I("sw"), I("sh"), I("dw"), I("dh"), I("ch", 1), B("src", kIn, "u8", 1, {P(0), P(1), P(4)}),
        B("dst", kOut, "u8", 1, {P(2), P(3), P(4)})},
       kNoSideEffects, HOST(Resize), resize_ref});
  add({"normalize", "dst (f32 CHW) = (src (u8 HWC, 3 channels) / 255 - mean) / std",
       {I("w"), I("h"), B("src", kIn, "u8", 1, {P(0), P(1), C(3)}), B("dst", kOut, "f32", 4, {P(0), P(1), C(3)}), F("m0"), F("m1"),
        F("m2"), F("s0"), F("s1"), F("s2")},
       kNoSideEffects, HOST(Normalize), normalize_ref});
  {
    KernelDesc g{"gemm", "C = alpha*A*B + beta*C (row-major; C read only when beta != 0)",
                 {I("M"), I("N"), I("K"), F("alpha"), F("beta"), B("A", kIn, "f32", 4, {P(0), P(2)}), B("B", kIn, "f32", 4, {P(2), P(1)}),
                  B("C", kInOut, "f32", 4, {P(0), P(1)})},
                 kNoSideEffects, HOST(Gemm), gemm_ref};
    g.params[7].read_if_nonzero = 4;
    add(std::move(g));
  }
  add({"reduce_sum", "out[0] += sum(x) (one atomic add per block)", {I("n"), B("x", kIn, "f32", 4, {P(0)}), B("out", kInOut, "f32", 4, {C(1)})},
       kAtomics, HOST(ReduceSum), reduce_sum_ref});
  add({"histogram", "hist[bin(x)] += 1 (atomic) for x in [lo, hi)",
       {I("n"), I("bins", 1), F("lo"), F("hi"), B("x", kIn, "f32", 4, {P(0)}), B("hist", kInOut, "u32", 4, {P(1)})}, kAtomics,
       HOST(Histogram), histogram_ref});
  add({"voxel_scatter", "counts[voxel(p)] += 1 (atomic) for each point p (xyz f32)",
       {I("n"), B("pts", kIn, "xyz", 12, {P(0)}), I("nx"), I("ny"), I("nz"), F("vsize"), F("ox"), F("oy"), F("oz"),
        B("counts", kInOut, "u32", 4, {P(2), P(3), P(4)})},
       kAtomics, HOST(VoxelScatter), voxel_ref});
  add({"point_transform", "dst = R*src + t for n points (T: 3x4 row-major)",
       {I("n"), B("T", kIn, "f32", 4, {C(12)}), B("src", kIn, "xyz", 12, {P(0)}), B("dst", kOut, "xyz", 12, {P(0)})}, kNoSideEffects,
       HOST(Transform), transform_ref});
  add({"prefix_sum", "y = inclusive scan of x (blocks chain through y)", {I("n"), B("x", kIn, "f32", 4, {P(0)}), B("y", kInOut, "f32", 4, {P(0)})},
       kNoSideEffects, HOST(PrefixSum), prefix_ref});
  add({"gather", "dst[i] = src[idx[i]] (0 when idx[i] >= nsrc)",
       {I("n"), I("nsrc"), B("idx", kIn, "u32", 4, {P(0)}), B("src", kIn, "f32", 4, {P(1)}), B("dst", kOut, "f32", 4, {P(0)})},
       kNoSideEffects, HOST(Gather), gather_ref});
  add({"scatter", "dst[idx[i]] = src[i] (skipped when idx[i] >= ndst)",
       {I("n"), I("ndst"), B("idx", kIn, "u32", 4, {P(0)}), B("src", kIn, "f32", 4, {P(0)}), B("dst", kOut, "f32", 4, {P(1)})},
       kNoSideEffects, HOST(Scatter), scatter_ref});
  add({"rng_uniform", "out = n uniform numbers in [0,1) from a xorshift state (advanced)",
       {I("n"), B("state", kInOut, "u64", 8, {C(1)}), B("out", kOut, "f32", 4, {P(0)})}, kRngState, HOST(RngUniform), rng_ref});
  add({"below_signal", "flag[0] = 1 (host-visible) once some x < thr",
       {I("n"), F("thr"), B("x", kIn, "f32", 4, {P(0)}), B("flag", kOut, "u32", 4, {C(1)})}, kHostVisible,
       HOST(BelowSignal), signal_ref});
  add_perception_kernels(L);
  add_app_kernels(L);

  for (auto& k : L) {
    k.slots = 0;
    for (size_t i = 0; i < k.params.size(); ++i) {
      const ParamSpec& p = k.params[i];
      k.slots += p.is_buffer ? 2 : 1;
      if (!p.is_buffer) continue;
      for (const Term& t : p.count)
        if (t.param >= 0) k.key_scalars |= 1u << t.param;
      if (p.stride.param >= 0) k.key_scalars |= 1u << p.stride.param;
      if (p.read_if_nonzero >= 0) k.zero_scalars |= 1u << p.read_if_nonzero;
    }
  }
  return L;
}

}  // namespace

const std::vector<KernelDesc>& kernel_library() {
  static const std::vector<KernelDesc> lib = build();
  return lib;
}

int find_kernel(const std::string& name) {
  const auto& L = kernel_library();
  for (size_t i = 0; i < L.size(); ++i)
    if (L[i].name == name) return int(i);
  return -1;
}

}  // namespace xdev
