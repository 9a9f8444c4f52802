// Data-parallel building blocks of the perception kernels (kernels_perception_ops.h): stable
// merge-sort passes, segment heads, scatter, the three-step exclusive scan (block sums, their
// scan, apply) and compaction. Each writes only buffers it does not read and uses no atomics,
// so its instances on separate buffers are idempotent.
#pragma once
#include "kernels_ops.h"

namespace xdev {
namespace ops {

constexpr uint64_t kNoKey = ~0ull;
constexpr uint32_t kNone = 0xffffffffu;
constexpr int64_t kScan = 256;  // elements per scan block

struct Items64 {
  static constexpr bool serial = false;
  XDEV_HD static int64_t per(const Args&) { return 64; }
};
struct N0 : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0); }
};

// ---- sort, segments, scans ------------------------------------------------------------------

// merge_pass(n, width, kin u64[n], iin u32[n], kout u64[n], iout u32[n]): merges each pair of
// sorted runs [2jw, 2jw+w), [2jw+w, 2jw+2w) of (key, value) into kout/iout, stably (ties
// keep the left run first). One item per output element: its merge-path split is found by
// binary search, so items are independent.
struct MergePass {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0); }
  XDEV_HD static int64_t per(const Args&) { return 256; }
  XDEV_HD static void item(const Args& a, int64_t o) {
    const int64_t n = I(a, 0), w = I(a, 1);
    const uint64_t* k = P<uint64_t>(a, 2);
    const uint32_t* v = P<uint32_t>(a, 3);
    const int64_t s = (o / (2 * w)) * (2 * w), mid = imin(s + w, n), e = imin(s + 2 * w, n);
    const int64_t lenL = mid - s, lenR = e - mid, d = o - s;
    int64_t lo = imax(0, d - lenR), hi = imin(d, lenL);
    while (lo < hi) {
      int64_t m = (lo + hi) / 2;
      if (k[s + m] <= k[mid + d - m - 1]) lo = m + 1;
      else hi = m;
    }
    const int64_t i = lo, j = d - lo;
    const bool left = i < lenL && (j >= lenR || k[s + i] <= k[mid + j]);
    const int64_t src = left ? s + i : mid + j;
    P<uint64_t>(a, 4)[o] = k[src];
    P<uint32_t>(a, 5)[o] = v[src];
  }
};

// segment_heads(n, keys u64[n], head u32[n]): 1 where a run of equal valid keys starts.
struct SegmentHeads : N0 {
  XDEV_HD static void item(const Args& a, int64_t p) {
    const uint64_t* k = P<uint64_t>(a, 1);
    P<uint32_t>(a, 2)[p] = k[p] != kNoKey && (p == 0 || k[p] != k[p - 1]) ? 1u : 0u;
  }
};

// scatter_u32(n, idx u32[n], src u32[n], dst u32[n]): dst[idx[p]] = src[p] (idx < n).
struct ScatterU32 : N0 {
  XDEV_HD static void item(const Args& a, int64_t p) {
    uint32_t k = P<uint32_t>(a, 1)[p];
    if (k < uint64_t(I(a, 0))) P<uint32_t>(a, 3)[k] = P<uint32_t>(a, 2)[p];
  }
};

// scan_blocks(n, nb, x u32[n], sums u32[nb]): sums[b] = sum of x over scan block b.
struct ScanBlocks : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static void item(const Args& a, int64_t b) {
    const uint32_t* x = P<uint32_t>(a, 2);
    uint32_t s = 0;
    for (int64_t i = b * kScan, e = imin(I(a, 0), (b + 1) * kScan); i < e; ++i) s += x[i];
    P<uint32_t>(a, 3)[b] = s;
  }
};

// scan_sums(nb, sums u32[nb], offs u32[nb], total u32[1]): exclusive scan of the block sums.
struct ScanSums {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args&) { return 1; }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t) {
    const uint32_t* s = P<uint32_t>(a, 1);
    uint32_t* o = P<uint32_t>(a, 2);
    uint32_t run = 0;
    for (int64_t b = 0; b < I(a, 0); ++b) {
      o[b] = run;
      run += s[b];
    }
    P<uint32_t>(a, 3)[0] = run;
  }
};

// scan_apply(n, nb, x u32[n], offs u32[nb], y u32[n]): y = exclusive scan of x.
struct ScanApply : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static void item(const Args& a, int64_t b) {
    const uint32_t* x = P<uint32_t>(a, 2);
    uint32_t* y = P<uint32_t>(a, 4);
    uint32_t run = P<uint32_t>(a, 3)[b];
    for (int64_t i = b * kScan, e = imin(I(a, 0), (b + 1) * kScan); i < e; ++i) {
      y[i] = run;
      run += x[i];
    }
  }
};

// compact_f32(n, w, keep u32[n], pos u32[n], src f32[n*w], dst f32[n*w]): rows kept, in order.
struct CompactF32 : N0 {
  XDEV_HD static void item(const Args& a, int64_t i) {
    if (!P<uint32_t>(a, 2)[i]) return;
    const int64_t n = I(a, 0), w = I(a, 1);
    const uint32_t o = P<uint32_t>(a, 3)[i];
    if (o >= uint64_t(n)) return;
    for (int64_t c = 0; c < w; ++c) P<float>(a, 5)[o * w + c] = P<float>(a, 4)[i * w + c];
  }
};

// count_diff(n, nb, x u32[n], y u32[n], out u32[nb]): per scan block, how many x[i] != y[i].
struct CountDiff : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static void item(const Args& a, int64_t b) {
    uint32_t c = 0;
    for (int64_t i = b * kScan, e = imin(I(a, 0), (b + 1) * kScan); i < e; ++i) c += P<uint32_t>(a, 2)[i] != P<uint32_t>(a, 3)[i];
    P<uint32_t>(a, 4)[b] = c;
  }
};

}  // namespace ops
}  // namespace xdev
