// The kernel library's arithmetic, written once for every backend. A kernel is an op: a
// grid of blocks (the unit a launch can be stopped between), each covering a contiguous
// range of items, and `item(a, i)` computing one item. The host backend runs a block's items
// in a loop on a device thread; the CUDA backend runs each block as a thread block, one
// thread per item (blockDim-strided when a block has more items than threads). Ops whose
// blocks depend on earlier blocks (`serial`) are launched block by block on CUDA.
//
// Every op must read and write only inside the extents its descriptor declares, whatever
// the contents of its input buffers (indices read from memory are checked), and never read
// an `out` buffer: the validator trusts the descriptors and the corpus tests check them.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel.h"

#ifdef __CUDACC__
#define XDEV_HD __host__ __device__ inline
#else
#define XDEV_HD inline
#include <atomic>
#endif

namespace xdev {
namespace ops {

using std::fabs;
using std::floor;
using std::fmax;
using std::fmin;
using std::isfinite;
using std::sqrt;

template <typename T>
XDEV_HD T* P(const Args& a, int i) {
  return reinterpret_cast<T*>(a.ptr[i]);
}
XDEV_HD int64_t I(const Args& a, int i) { return int64_t(a.s[i]); }
XDEV_HD float F(const Args& a, int i) { return float(a.s[i]); }
XDEV_HD double D(const Args& a, int i) { return a.s[i]; }
XDEV_HD int64_t imin(int64_t x, int64_t y) { return x < y ? x : y; }
XDEV_HD int64_t imax(int64_t x, int64_t y) { return x > y ? x : y; }
XDEV_HD uint32_t blocks_of(int64_t n, int64_t per) { return per <= 0 ? 0 : uint32_t((uint64_t(n) + uint64_t(per) - 1) / uint64_t(per)); }

XDEV_HD void atomic_add_f32(float* target, float v) {
#ifdef __CUDA_ARCH__
  atomicAdd(target, v);
#else
  // A real atomic RMW (CAS loop), as a device atomicAdd on float.
  auto* word = reinterpret_cast<std::atomic<uint32_t>*>(target);
  uint32_t old = word->load(std::memory_order_relaxed);
  for (;;) {
    float f;
    std::memcpy(&f, &old, 4);
    f += v;
    uint32_t nw;
    std::memcpy(&nw, &f, 4);
    if (word->compare_exchange_weak(old, nw, std::memory_order_relaxed)) return;
  }
#endif
}
XDEV_HD void atomic_inc_u32(uint32_t* target) {
#ifdef __CUDA_ARCH__
  atomicAdd(target, 1u);
#else
  reinterpret_cast<std::atomic<uint32_t>*>(target)->fetch_add(1, std::memory_order_relaxed);
#endif
}
XDEV_HD void store_release_u32(uint32_t* target, uint32_t v) {
#ifdef __CUDA_ARCH__
  *reinterpret_cast<volatile uint32_t*>(target) = v;
  __threadfence_system();
#else
  reinterpret_cast<std::atomic<uint32_t>*>(target)->store(v, std::memory_order_release);
#endif
}

constexpr int64_t kElems = 64;   // elements per block for elementwise kernels
constexpr int64_t kBytes = 256;  // bytes per block for copy

// Elementwise over n = scalar 0, kElems per block.
struct Elementwise {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0); }
  XDEV_HD static int64_t per(const Args&) { return kElems; }
};

struct Saxpy : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    float* y = P<float>(a, 4);
    y[i * I(a, 5)] = F(a, 1) * P<float>(a, 2)[i * I(a, 3)] + y[i * I(a, 5)];
  }
};
struct Add : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 3)[i] = P<float>(a, 1)[i] + P<float>(a, 2)[i]; }
};
struct AddInplace : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 1)[i] = P<float>(a, 1)[i] + P<float>(a, 2)[i]; }
};
struct Scale : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 3)[i] = F(a, 1) * P<float>(a, 2)[i]; }
};
struct ScaleInplace : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 2)[i] = F(a, 1) * P<float>(a, 2)[i]; }
};
XDEV_HD float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
struct Clamp : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 4)[i] = clampf(P<float>(a, 3)[i], F(a, 1), F(a, 2)); }
};
struct ClampInplace : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) { P<float>(a, 3)[i] = clampf(P<float>(a, 3)[i], F(a, 1), F(a, 2)); }
};
struct Copy {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0); }
  XDEV_HD static int64_t per(const Args&) { return kBytes; }
  XDEV_HD static void item(const Args& a, int64_t i) { P<uint8_t>(a, 2)[i] = P<uint8_t>(a, 1)[i]; }
};

// resize_bilinear(sw, sh, dw, dh, ch, src, dst): one block per destination row.
XDEV_HD uint8_t bilinear(const uint8_t* src, int64_t sw, int64_t sh, int64_t ch, int64_t dw, int64_t dh, int64_t x, int64_t y, int64_t c) {
  float fx = (float(x) + 0.5f) * float(sw) / float(dw) - 0.5f;
  float fy = (float(y) + 0.5f) * float(sh) / float(dh) - 0.5f;
  fx = fmaxf(0.0f, fminf(fx, float(sw - 1)));
  fy = fmaxf(0.0f, fminf(fy, float(sh - 1)));
  int64_t x0 = int64_t(fx), y0 = int64_t(fy);
  int64_t x1 = imin(x0 + 1, sw - 1), y1 = imin(y0 + 1, sh - 1);
  float ax = fx - float(x0), ay = fy - float(y0);
  float top = float(src[(y0 * sw + x0) * ch + c]) * (1 - ax) + float(src[(y0 * sw + x1) * ch + c]) * ax;
  float bot = float(src[(y1 * sw + x0) * ch + c]) * (1 - ax) + float(src[(y1 * sw + x1) * ch + c]) * ax;
  float v = top * (1 - ay) + bot * ay;
  return uint8_t(lroundf(fmaxf(0.0f, fminf(255.0f, v))));
}
struct Resize {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 3) * I(a, 2) * I(a, 4); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 2) * I(a, 4); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 3)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    int64_t sw = I(a, 0), sh = I(a, 1), dw = I(a, 2), dh = I(a, 3), ch = I(a, 4);
    if (sw == 0 || sh == 0) return;
    int64_t c = i % ch, x = (i / ch) % dw, y = i / (ch * dw);
    P<uint8_t>(a, 6)[(y * dw + x) * ch + c] = bilinear(P<uint8_t>(a, 5), sw, sh, ch, dw, dh, x, y, c);
  }
};

// normalize(w, h, src, dst, m0..m2, s0..s2): one block per row, one item per pixel.
struct Normalize {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 0); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 1)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    int64_t w = I(a, 0), h = I(a, 1), x = i % w, y = i / w;
    const uint8_t* src = P<uint8_t>(a, 2);
    float* dst = P<float>(a, 3);
    for (int c = 0; c < 3; ++c) dst[c * w * h + y * w + x] = (float(src[(y * w + x) * 3 + c]) / 255.0f - F(a, 4 + c)) / F(a, 7 + c);
  }
};

// gemm(M, N, K, alpha, beta, A, B, C): one block per row of C, one item per element.
struct Gemm {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 1); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 0)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    int64_t N = I(a, 1), K = I(a, 2), r = i / N, j = i % N;
    float alpha = F(a, 3), beta = F(a, 4);
    const float* A = P<float>(a, 5) + r * K;
    const float* Bm = P<float>(a, 6);
    float* C = P<float>(a, 7) + r * N;
    float acc = 0.0f;
    for (int64_t k = 0; k < K; ++k) acc += A[k] * Bm[k * N + j];
    C[j] = beta != 0.0f ? alpha * acc + beta * C[j] : alpha * acc;
  }
};

// reduce_sum(n, x, out[1]): one atomic add per block (the first item of each block sums it).
struct ReduceSum {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return blocks_of(I(a, 0), kElems); }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t b) {
    int64_t e = imin(I(a, 0), (b + 1) * kElems);
    float s = 0;
    for (int64_t i = b * kElems; i < e; ++i) s += P<float>(a, 1)[i];
    atomic_add_f32(P<float>(a, 2), s);
  }
};

XDEV_HD int64_t hist_bin(float v, float lo, float hi, int64_t bins) {
  if (!(v >= lo) || !(v < hi)) return -1;
  int64_t k = int64_t((v - lo) / (hi - lo) * float(bins));
  return imin(k, bins - 1);
}
struct Histogram : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    int64_t k = hist_bin(P<float>(a, 4)[i], F(a, 2), F(a, 3), I(a, 1));
    if (k >= 0) atomic_inc_u32(P<uint32_t>(a, 5) + k);
  }
};

XDEV_HD int64_t voxel_of(const float* p, const Args& a) {
  int64_t nx = I(a, 2), ny = I(a, 3), nz = I(a, 4);
  float vs = F(a, 5);
  if (!(vs > 0)) return -1;
  float fx = floorf((p[0] - F(a, 6)) / vs), fy = floorf((p[1] - F(a, 7)) / vs), fz = floorf((p[2] - F(a, 8)) / vs);
  if (!(fx >= 0 && fy >= 0 && fz >= 0 && fx < float(nx) && fy < float(ny) && fz < float(nz))) return -1;
  return (int64_t(fz) * ny + int64_t(fy)) * nx + int64_t(fx);
}
struct VoxelScatter : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    int64_t v = voxel_of(P<float>(a, 1) + i * 3, a);
    if (v >= 0) atomic_inc_u32(P<uint32_t>(a, 9) + v);
  }
};

struct Transform : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const float* T = P<float>(a, 1);
    const float* s = P<float>(a, 2) + i * 3;
    float* d = P<float>(a, 3) + i * 3;
    float x = s[0], y = s[1], z = s[2];
    float o0 = T[0] * x + T[1] * y + T[2] * z + T[3];
    float o1 = T[4] * x + T[5] * y + T[6] * z + T[7];
    float o2 = T[8] * x + T[9] * y + T[10] * z + T[11];
    d[0] = o0;
    d[1] = o1;
    d[2] = o2;
  }
};

// prefix_sum(n, x, y): each block continues from the previous block's last output, so blocks
// run in order (serial on CUDA); y is read as well as written (declared inout).
struct PrefixSum {
  static constexpr bool serial = true;
  XDEV_HD static int64_t items(const Args& a) { return blocks_of(I(a, 0), kElems); }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t b) {
    const float* x = P<float>(a, 1);
    float* y = P<float>(a, 2);
    int64_t s = b * kElems, e = imin(I(a, 0), s + kElems);
    float run = s > 0 ? y[s - 1] : 0.0f;
    for (int64_t i = s; i < e; ++i) {
      run += x[i];
      y[i] = run;
    }
  }
};

struct Gather : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    uint32_t k = P<uint32_t>(a, 2)[i];
    P<float>(a, 4)[i] = k < uint64_t(I(a, 1)) ? P<float>(a, 3)[k] : 0.0f;
  }
};
struct Scatter : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    uint32_t k = P<uint32_t>(a, 2)[i];
    if (k < uint64_t(I(a, 1))) P<float>(a, 4)[k] = P<float>(a, 3)[i];
  }
};

// rng_uniform(n, state, out): xorshift64*; each block continues the previous block's state
// (serial on CUDA).
XDEV_HD float next_uniform(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return float((s * 2685821657736338717ull) >> 40) / float(1 << 24);
}
struct RngUniform {
  static constexpr bool serial = true;
  XDEV_HD static int64_t items(const Args& a) { return blocks_of(I(a, 0), kElems); }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t b) {
    uint64_t s = P<uint64_t>(a, 1)[0];
    int64_t e = imin(I(a, 0), (b + 1) * kElems);
    for (int64_t i = b * kElems; i < e; ++i) P<float>(a, 2)[i] = next_uniform(s);
    P<uint64_t>(a, 1)[0] = s;
  }
};

struct BelowSignal : Elementwise {
  XDEV_HD static void item(const Args& a, int64_t i) {
    if (P<float>(a, 2)[i] < F(a, 1)) store_release_u32(P<uint32_t>(a, 3), 1);
  }
};

// Grid of an op: its own `grid` when it has one, else blocks of `per` items.
template <typename Op>
struct HasGrid {
  template <typename U>
  static auto test(int) -> decltype(U::grid(*static_cast<const Args*>(nullptr)), char());
  template <typename U>
  static long test(...);
  static constexpr bool value = sizeof(test<Op>(0)) == 1;
};
template <typename Op>
XDEV_HD uint32_t grid_of(const Args& a) {
  if constexpr (HasGrid<Op>::value) {
    return Op::grid(a);
  } else {
    return blocks_of(Op::items(a), Op::per(a));
  }
}

}  // namespace ops
}  // namespace xdev
