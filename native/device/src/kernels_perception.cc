// Descriptors of the perception kernels (their arithmetic: kernels_perception_ops.h). Every
// one of them declares no side effects: on separate input and output buffers, each instance
// is idempotent, so a launch killed for higher-priority work is simply relaunched.
#include <cstring>
#include <vector>

#include "kernels_build.h"
#include "kernels_perception_ops.h"

namespace xdev {
namespace {
using namespace kb;

// Plain two-pointer merge of each pair of runs: the reference for merge_pass (equal to it
// when the runs are sorted, which is the kernel's contract).
void merge_ref(const Args& a) {
  const int64_t n = a.i(0), w = a.i(1);
  const uint64_t* k = a.p<uint64_t>(2);
  const uint32_t* v = a.p<uint32_t>(3);
  std::vector<uint64_t> ko(static_cast<size_t>(n));
  std::vector<uint32_t> vo(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; s += 2 * w) {
    int64_t i = s, mid = std::min(s + w, n), j = mid, e = std::min(s + 2 * w, n), o = s;
    while (i < mid || j < e) {
      const bool left = i < mid && (j >= e || k[i] <= k[j]);
      const int64_t src = left ? i++ : j++;
      ko[size_t(o)] = k[src];
      vo[size_t(o++)] = v[src];
    }
  }
  std::memcpy(a.p<uint64_t>(4), ko.data(), size_t(n) * 8);
  std::memcpy(a.p<uint32_t>(5), vo.data(), size_t(n) * 4);
}

// Sequential exclusive scan pieces, written independently of the ops' block structure.
void scan_blocks_ref(const Args& a) {
  const int64_t n = a.i(0);
  for (int64_t b = 0; b < a.i(1); ++b) {
    uint32_t s = 0;
    for (int64_t i = b * ops::kScan; i < n && i < (b + 1) * ops::kScan; ++i) s += a.p<uint32_t>(2)[i];
    a.p<uint32_t>(3)[b] = s;
  }
}
void scan_sums_ref(const Args& a) {
  uint32_t run = 0;
  for (int64_t b = 0; b < a.i(0); ++b) {
    const uint32_t s = a.p<uint32_t>(1)[b];
    a.p<uint32_t>(2)[b] = run;
    run += s;
  }
  a.p<uint32_t>(3)[0] = run;
}

#define REF(Op) ::xdev::kb::items_in_order<::xdev::ops::Op>

}  // namespace

void add_perception_kernels(std::vector<KernelDesc>& L) {
  auto add = [&](KernelDesc d) { L.push_back(std::move(d)); };
  const Access in = kIn, out = kOut;
  // sort, segments, scans
  add({"merge_pass", "idempotent. Merges sorted run pairs of width `width` of (key, value), stably (one merge-path search per output)",
       {I("n"), I("width", 1), B("kin", in, "u64", 8, {P(0)}), B("iin", in, "u32", 4, {P(0)}), B("kout", out, "u64", 8, {P(0)}),
        B("iout", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(MergePass), merge_ref});
  add({"segment_heads", "idempotent. head[p] = 1 where a run of equal valid keys starts", {I("n"), B("keys", in, "u64", 8, {P(0)}), B("head", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(SegmentHeads), REF(SegmentHeads)});
  add({"scatter_u32", "idempotent. dst[idx[p]] = src[p] for idx[p] < n (a permutation writes every element)",
       {I("n"), B("idx", in, "u32", 4, {P(0)}), B("src", in, "u32", 4, {P(0)}), B("dst", out, "u32", 4, {P(0)})}, kNoSideEffects,
       HOST(ScatterU32), REF(ScatterU32)});
  add({"scan_blocks", "idempotent. sums[b] = sum of x over scan block b (256 elements)",
       {I("n"), I("nb"), B("x", in, "u32", 4, {P(0)}), B("sums", out, "u32", 4, {P(1)})}, kNoSideEffects, HOST(ScanBlocks), scan_blocks_ref});
  add({"scan_sums", "idempotent. offs = exclusive scan of sums; total = their sum",
       {I("nb"), B("sums", in, "u32", 4, {P(0)}), B("offs", out, "u32", 4, {P(0)}), B("total", out, "u32", 4, {C(1)})}, kNoSideEffects,
       HOST(ScanSums), scan_sums_ref});
  add({"scan_apply", "idempotent. y = exclusive scan of x, from the block offsets",
       {I("n"), I("nb"), B("x", in, "u32", 4, {P(0)}), B("offs", in, "u32", 4, {P(1)}), B("y", out, "u32", 4, {P(0)})}, kNoSideEffects,
       HOST(ScanApply), REF(ScanApply)});
  add({"compact_f32", "idempotent. dst row pos[i] = src row i (w floats) where keep[i]",
       {I("n"), I("w"), B("keep", in, "u32", 4, {P(0)}), B("pos", in, "u32", 4, {P(0)}), B("src", in, "f32", 4, {P(0), P(1)}),
        B("dst", out, "f32", 4, {P(0), P(1)})},
       kNoSideEffects, HOST(CompactF32), REF(CompactF32)});
  add({"count_diff", "idempotent. out[b] = how many x[i] != y[i] in scan block b",
       {I("n"), I("nb"), B("x", in, "u32", 4, {P(0)}), B("y", in, "u32", 4, {P(0)}), B("out", out, "u32", 4, {P(1)})}, kNoSideEffects,
       HOST(CountDiff), REF(CountDiff)});
  // voxel downsample
  add({"voxel_keys", "idempotent. keys = packed voxel of each [x,y,z,i] point (edge leaf), idx = its index",
       {I("n"), F("leaf"), B("pts", in, "f32", 4, {P(0), C(4)}), B("keys", out, "u64", 8, {P(0)}), B("idx", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(VoxelKeys), REF(VoxelKeys)});
  add({"voxel_mean", "idempotent. out row pos[first point] = mean of each voxel's points (sorted keys, heads)",
       {I("n"), B("keys", in, "u64", 8, {P(0)}), B("idx", in, "u32", 4, {P(0)}), B("head", in, "u32", 4, {P(0)}), B("pos", in, "u32", 4, {P(0)}),
        B("pts", in, "f32", 4, {P(0), C(4)}), B("out", out, "f32", 4, {P(0), C(4)})},
       kNoSideEffects, HOST(VoxelMean), REF(VoxelMean)});
  // ground removal
  add({"ransac_planes", "idempotent. planes[it] = unit-normal plane through sampled triple it (valid: not degenerate or too steep)",
       {I("n"), I("iters"), F("minnz"), B("samples", in, "u32", 4, {P(1), C(3)}), B("pts", in, "f32", 4, {P(0), C(4)}),
        B("planes", out, "f64", 8, {P(1), C(4)}), B("valid", out, "u32", 4, {P(1)})},
       kNoSideEffects, HOST(RansacPlanes), REF(RansacPlanes)});
  add({"ransac_count", "idempotent. counts[it] = points within distance of plane it (one block per plane)",
       {I("n"), I("iters"), F("distance"), B("planes", in, "f64", 8, {P(1), C(4)}), B("valid", in, "u32", 4, {P(1)}),
        B("pts", in, "f32", 4, {P(0), C(4)}), B("counts", out, "u32", 4, {P(1)})},
       kNoSideEffects, HOST(RansacCount), REF(RansacCount)});
  add({"ransac_best", "idempotent. best = first valid plane with most inliers (else z = 0)",
       {I("iters"), B("planes", in, "f64", 8, {P(0), C(4)}), B("valid", in, "u32", 4, {P(0)}), B("counts", in, "u32", 4, {P(0)}),
        B("best", out, "f64", 8, {C(4)})},
       kNoSideEffects, HOST(RansacBest), REF(RansacBest)});
  add({"ground_keep", "idempotent. keep[q] = point q at least distance above the plane",
       {I("n"), F("distance"), B("plane", in, "f64", 8, {C(4)}), B("pts", in, "f32", 4, {P(0), C(4)}), B("keep", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(GroundKeep), REF(GroundKeep)});
  // clustering
  add({"cell_keys", "idempotent. keys = ground-plane cell (edge tol) of each point, idx and lab = its index",
       {I("n"), F("tol"), B("pts", in, "f32", 4, {P(0), C(4)}), B("keys", out, "u64", 8, {P(0)}), B("idx", out, "u32", 4, {P(0)}),
        B("lab", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(CellKeys), REF(CellKeys)});
  add({"cc_pass", "idempotent. lout[i] = min(lin[lin[i]], lin[j] for j within tol of i): one label-propagation round",
       {I("n"), F("tol"), B("keys", in, "u64", 8, {P(0)}), B("idx", in, "u32", 4, {P(0)}), B("pts", in, "f32", 4, {P(0), C(4)}),
        B("lin", in, "u32", 4, {P(0)}), B("lout", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(CcPass), REF(CcPass)});
  add({"label_keys", "idempotent. keys = label of each point, idx = its index (to group points by cluster)",
       {I("n"), B("lab", in, "u32", 4, {P(0)}), B("keys", out, "u64", 8, {P(0)}), B("idx", out, "u32", 4, {P(0)})}, kNoSideEffects,
       HOST(LabelKeys), REF(LabelKeys)});
  add({"cluster_stats", "idempotent. stats row at each cluster's first sorted point: [centroid, min, max, count]; keep when its size is in range",
       {I("n"), I("min_points"), I("max_points"), B("keys", in, "u64", 8, {P(0)}), B("idx", in, "u32", 4, {P(0)}),
        B("head", in, "u32", 4, {P(0)}), B("pts", in, "f32", 4, {P(0), C(4)}), B("stats", out, "f32", 4, {P(0), C(10)}),
        B("keep", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(ClusterStats), REF(ClusterStats)});
  // detector decode
  add({"hm_init", "idempotent. lab[k] = k where cell k can seed a region (not below thr), else none",
       {I("total"), F("thr"), B("heat", in, "f32", 4, {P(0)}), B("lab", out, "u32", 4, {P(0)})}, kNoSideEffects, HOST(HmInit), REF(HmInit)});
  add({"hm_pass", "idempotent. one round of min-label propagation along the connected row and column runs of heatmap cells at or above thr",
       {I("C"), I("h"), I("w"), F("thr"), B("heat", in, "f32", 4, {P(0), P(1), P(2)}), B("lin", in, "u32", 4, {P(0), P(1), P(2)}),
        B("lout", out, "u32", 4, {P(0), P(1), P(2)})},
       kNoSideEffects, HOST(HmPass), REF(HmPass)});
  add({"hm_regions", "idempotent. rows [x1,y1,x2,y2,score,class] at each region's first cell (sub-cell edges); keep when >= min_cells",
       {I("C"), I("h"), I("w"), I("min_cells"), F("stride_x"), F("stride_y"), B("heat", in, "f32", 4, {P(0), P(1), P(2)}),
        B("lab", in, "u32", 4, {P(0), P(1), P(2)}), B("rows", out, "f32", 4, {P(0), P(1), P(2), C(6)}),
        B("keep", out, "u32", 4, {P(0), P(1), P(2)})},
       kNoSideEffects, HOST(HmRegions), REF(HmRegions)});
  add({"yolo_decode", "idempotent. rows [x1,y1,x2,y2,score,class] of each YOLOv8 anchor whose best class reaches thr",
       {I("N"), I("rows", 5), I("nmap"), F("thr"), F("sx"), F("sy"), B("head", in, "f32", 4, {P(0), P(1)}), B("map", in, "i32", 4, {P(2)}),
        B("out", out, "f32", 4, {P(0), C(6)}), B("keep", out, "u32", 4, {P(0)})},
       kNoSideEffects, HOST(YoloDecode), REF(YoloDecode)});
  // camera preprocess
  add({"preprocess", "idempotent. dst (f32 planar RGB, dw x dh) = bilinear resize of src (rgb8/bgr8, row step) * k + b per channel",
       {I("sw"), I("sh"), I("step"), I("c0"), I("dw"), I("dh"), B("src", in, "u8", 1, {P(1), P(2)}), B("dst", out, "f32", 4, {P(4), P(5), C(3)}),
        F("k0"), F("k1"), F("k2"), F("b0"), F("b1"), F("b2")},
       kNoSideEffects, HOST(Preprocess), REF(Preprocess)});
}

}  // namespace xdev
