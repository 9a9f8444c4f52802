// Perception kernels (camera preprocess, voxel downsample, ground removal, clustering,
// detector decode) as ops of the kernel library (see kernels_ops.h), written once for the
// host and CUDA backends.
//
// Formulation: every op writes only buffers it does not read and uses no atomics, so every
// instance on separate buffers is idempotent (a killed launch is relaunched from scratch).
// Data-dependent sizes come from scans instead of atomic counters: flags -> exclusive scan
// (scan_blocks, scan_sums, scan_apply; kernels_scan_ops.h) -> positions -> compaction. Sorting is a stable merge
// sort whose passes (merge_pass) each read one buffer pair and write the other. Connected
// components (clusters, heatmap regions) are min-label propagation with pointer jumping,
// one pass per launch from one label buffer into another, until a pass changes nothing.
//
// Arithmetic follows the JS/C++ implementations of the XNODEs operation by operation (double
// where they use double), so results agree exactly except where a sum's order differs.
// (Just over 400 lines: the five stages' ops, each beside the description of its arguments.)
#pragma once
#include "kernels_scan_ops.h"

namespace xdev {
namespace ops {

// ---- voxel downsample ------------------------------------------------------------------------

// voxel_keys(n, leaf, pts f32[n*4], keys u64[n], idx u32[n]): the voxel of each point as
// xnodes/lidar/kernels.ts packs it (kNoKey beyond the voxel limit), and its index.
struct VoxelKeys : N0 {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const float* p = P<float>(a, 2) + i * 4;
    const double leaf = D(a, 1);
    const double ix = floor(double(p[0]) / leaf), iy = floor(double(p[1]) / leaf), iz = floor(double(p[2]) / leaf);
    const double L = 32767;
    uint64_t key = kNoKey;
    if (fabs(ix) <= L && fabs(iy) <= L && fabs(iz) <= L)
      key = ((uint64_t(int64_t(ix) + 32768) * 65536u) + uint64_t(int64_t(iy) + 32768)) * 65536u + uint64_t(int64_t(iz) + 32768);
    P<uint64_t>(a, 3)[i] = key;
    P<uint32_t>(a, 4)[i] = uint32_t(i);
  }
};

// voxel_mean(n, keys u64[n], idx u32[n], head u32[n], pos u32[n], pts f32[n*4], out f32[n*4]):
// at each voxel's first sorted position: the mean (double sums, point order) of its points,
// written at its output position (voxels in order of their first point).
struct VoxelMean : N0 {
  XDEV_HD static void item(const Args& a, int64_t p) {
    if (!P<uint32_t>(a, 3)[p]) return;
    const int64_t n = I(a, 0);
    const uint64_t* keys = P<uint64_t>(a, 1);
    const uint32_t* idx = P<uint32_t>(a, 2);
    const float* pts = P<float>(a, 5);
    if (idx[p] >= uint64_t(n)) return;
    const uint32_t o = P<uint32_t>(a, 4)[idx[p]];
    if (o >= uint64_t(n)) return;
    double s[4] = {0, 0, 0, 0};
    uint32_t c = 0;
    for (int64_t q = p; q < n && keys[q] == keys[p]; ++q) {
      const uint32_t k = idx[q];
      if (k >= uint64_t(n)) continue;
      for (int j = 0; j < 4; ++j) s[j] += double(pts[k * 4 + j]);
      ++c;
    }
    for (int j = 0; j < 4; ++j) P<float>(a, 6)[o * 4 + j] = float(s[j] / double(c));
  }
};

// ---- ground removal (RANSAC) -----------------------------------------------------------------

// ransac_planes(n, iters, minnz, samples u32[iters*3], pts f32[n*4], planes f64[iters*4],
// valid u32[iters]): the candidate plane through each sampled triple (unit normal, c > 0).
struct RansacPlanes : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static void item(const Args& a, int64_t it) {
    const int64_t n = I(a, 0);
    const uint32_t* smp = P<uint32_t>(a, 3) + it * 3;
    const float* pts = P<float>(a, 4);
    uint32_t* valid = P<uint32_t>(a, 6) + it;
    double* pl = P<double>(a, 5) + it * 4;
    *valid = 0;
    pl[0] = pl[1] = pl[3] = 0;
    pl[2] = 1;
    if (smp[0] >= uint64_t(n) || smp[1] >= uint64_t(n) || smp[2] >= uint64_t(n)) return;
    const float *A = pts + smp[0] * 4, *B = pts + smp[1] * 4, *C = pts + smp[2] * 4;
    const double ax = A[0], ay = A[1], az = A[2];
    const double ux = double(B[0]) - ax, uy = double(B[1]) - ay, uz = double(B[2]) - az;
    const double vx = double(C[0]) - ax, vy = double(C[1]) - ay, vz = double(C[2]) - az;
    double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const double len = sqrt(nx * nx + ny * ny + nz * nz);
    if (!(len > 1e-9)) return;
    if (nz < 0) nx = -nx, ny = -ny, nz = -nz;
    nx /= len;
    ny /= len;
    nz /= len;
    if (nz < D(a, 2)) return;
    pl[0] = nx;
    pl[1] = ny;
    pl[2] = nz;
    pl[3] = -(nx * ax + ny * ay + nz * az);
    *valid = 1;
  }
};

// ransac_count(n, iters, distance, planes f64[iters*4], valid u32[iters], pts f32[n*4],
// counts u32[iters]): inliers of each candidate; one block per candidate.
struct RansacCount {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 1); }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t it) {
    const int64_t n = I(a, 0);
    const double* pl = P<double>(a, 3) + it * 4;
    const float* pts = P<float>(a, 5);
    const double dist = D(a, 2);
    uint32_t c = 0;
    if (P<uint32_t>(a, 4)[it])
      for (int64_t q = 0; q < n; ++q) {
        const double d = pl[0] * double(pts[q * 4]) + pl[1] * double(pts[q * 4 + 1]) + pl[2] * double(pts[q * 4 + 2]) + pl[3];
        c += (d < dist && d > -dist) ? 1u : 0u;
      }
    P<uint32_t>(a, 6)[it] = c;
  }
};

// ransac_best(iters, planes, valid, counts, best f64[4]): the first valid candidate with most
// inliers, else the plane z = 0.
struct RansacBest {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args&) { return 1; }
  XDEV_HD static int64_t per(const Args&) { return 1; }
  XDEV_HD static void item(const Args& a, int64_t) {
    const double* pl = P<double>(a, 1);
    double* out = P<double>(a, 4);
    int64_t best = -1, at = -1;
    for (int64_t it = 0; it < I(a, 0); ++it)
      if (P<uint32_t>(a, 2)[it] && int64_t(P<uint32_t>(a, 3)[it]) > best) best = int64_t(P<uint32_t>(a, 3)[it]), at = it;
    for (int j = 0; j < 4; ++j) out[j] = at >= 0 ? pl[at * 4 + j] : (j == 2 ? 1.0 : 0.0);
  }
};

// ground_keep(n, distance, plane f64[4], pts f32[n*4], keep u32[n]): 1 above the plane.
struct GroundKeep : N0 {
  XDEV_HD static void item(const Args& a, int64_t q) {
    const double* pl = P<double>(a, 2);
    const float* p = P<float>(a, 3) + q * 4;
    P<uint32_t>(a, 4)[q] = pl[0] * double(p[0]) + pl[1] * double(p[1]) + pl[2] * double(p[2]) + pl[3] >= D(a, 1) ? 1u : 0u;
  }
};

// ---- clustering (connected components over the tolerance grid) -------------------------------

XDEV_HD uint64_t cell_key(int64_t x, int64_t y) { return uint64_t(x + 33554432) * 67108864ull + uint64_t(y + 33554432); }
XDEV_HD bool cell_of(double x, double y, double tol, int64_t* cx, int64_t* cy) {
  const double fx = floor(x / tol), fy = floor(y / tol);
  if (!(fabs(fx) < 33554431 && fabs(fy) < 33554431)) return false;
  *cx = int64_t(fx);
  *cy = int64_t(fy);
  return true;
}

// cell_keys(n, tol, pts f32[n*4], keys u64[n], idx u32[n], lab u32[n]): each point's grid cell
// on the ground plane (edge `tol`), its index, and its initial label (itself).
struct CellKeys : N0 {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const float* p = P<float>(a, 2) + i * 4;
    int64_t cx, cy;
    P<uint64_t>(a, 3)[i] = cell_of(p[0], p[1], D(a, 1), &cx, &cy) ? cell_key(cx, cy) : kNoKey;
    P<uint32_t>(a, 4)[i] = uint32_t(i);
    P<uint32_t>(a, 5)[i] = uint32_t(i);
  }
};

// First position in sorted keys[0, n) not less than key.
XDEV_HD int64_t lower_bound_u64(const uint64_t* keys, int64_t n, uint64_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t m = (lo + hi) / 2;
    if (keys[m] < key) lo = m + 1;
    else hi = m;
  }
  return lo;
}

// cc_pass(n, tol, keys u64[n], idx u32[n], pts f32[n*4], lin u32[n], lout u32[n]): one round of
// min-label propagation with pointer jumping: lout[i] = min(lin[lin[i]], lin[j] for every
// point j within `tol` of i on the ground plane), neighbours found in the 3x3 cells around i
// through the points sorted by cell.
struct CcPass : N0 {
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t n = I(a, 0);
    const double tol = D(a, 1), tol2 = tol * tol;
    const uint64_t* keys = P<uint64_t>(a, 2);
    const uint32_t* idx = P<uint32_t>(a, 3);
    const float* pts = P<float>(a, 4);
    const uint32_t* lin = P<uint32_t>(a, 5);
    uint32_t m = lin[i];
    if (m < uint64_t(n) && lin[m] < m) m = lin[m];
    const double x = pts[i * 4], y = pts[i * 4 + 1];
    int64_t cx, cy;
    if (cell_of(x, y, tol, &cx, &cy))
      for (int dx = -1; dx <= 1; ++dx)
        for (int dy = -1; dy <= 1; ++dy) {
          const uint64_t key = cell_key(cx + dx, cy + dy);
          for (int64_t q = lower_bound_u64(keys, n, key); q < n && keys[q] == key; ++q) {
            const uint32_t j = idx[q];
            if (j >= uint64_t(n)) continue;
            const double ex = double(pts[j * 4]) - x, ey = double(pts[j * 4 + 1]) - y;
            if (ex * ex + ey * ey <= tol2 && lin[j] < m) m = lin[j];
          }
        }
    P<uint32_t>(a, 6)[i] = m;
  }
};

// label_keys(n, lab u32[n], keys u64[n], idx u32[n]): sort keys for grouping points by label.
struct LabelKeys : N0 {
  XDEV_HD static void item(const Args& a, int64_t i) {
    P<uint64_t>(a, 2)[i] = P<uint32_t>(a, 1)[i];
    P<uint32_t>(a, 3)[i] = uint32_t(i);
  }
};

// cluster_stats(n, min_points, max_points, keys u64[n], idx u32[n], head u32[n], pts f32[n*4],
// stats f32[n*10], keep u32[n]): at each cluster's first sorted position, its box
// [centroid, min, max, count] and whether its size is within [min_points, max_points].
struct ClusterStats : N0 {
  XDEV_HD static void item(const Args& a, int64_t p) {
    uint32_t* keep = P<uint32_t>(a, 8);
    keep[p] = 0;
    if (!P<uint32_t>(a, 5)[p]) return;
    const int64_t n = I(a, 0);
    const uint64_t* keys = P<uint64_t>(a, 3);
    const uint32_t* idx = P<uint32_t>(a, 4);
    const float* pts = P<float>(a, 6);
    double s[3] = {0, 0, 0};
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    int64_t c = 0;
    for (int64_t q = p; q < n && keys[q] == keys[p]; ++q) {
      const uint32_t k = idx[q];
      if (k >= uint64_t(n)) continue;
      for (int j = 0; j < 3; ++j) {
        const float v = pts[k * 4 + j];
        s[j] += double(v);
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
      }
      ++c;
    }
    float* o = P<float>(a, 7) + p * 10;
    for (int j = 0; j < 3; ++j) {
      o[j] = float(s[j] / double(c));
      o[3 + j] = lo[j];
      o[6 + j] = hi[j];
    }
    o[9] = float(c);
    keep[p] = c >= I(a, 1) && c <= I(a, 2) ? 1u : 0u;
  }
};

// ---- detector decode -------------------------------------------------------------------------

// hm_init(total, thr, heat f32[total], lab u32[total]): a cell that can seed a region (not
// below thr: a NaN cell seeds a region of its own, as in the JS decoder) starts as its own label.
struct HmInit : N0 {
  XDEV_HD static void item(const Args& a, int64_t k) { P<uint32_t>(a, 3)[k] = !(P<float>(a, 2)[k] < F(a, 1)) ? uint32_t(k) : kNone; }
};

// hm_pass(C, h, w, thr, heat f32[C*h*w], lin u32[C*h*w], lout u32[C*h*w]): one round of
// min-label propagation over 4-connected cells at or above thr, per class plane: each cell
// takes the smallest label along the whole connected run of cells through it in its row and
// in its column (and its label's label), so a blob converges in a few rounds.
struct HmPass : Items64 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1) * I(a, 2); }
  XDEV_HD static void item(const Args& a, int64_t k) {
    const int64_t h = I(a, 1), w = I(a, 2), cells = h * w, total = I(a, 0) * cells;
    const float thr = F(a, 3);
    const float* heat = P<float>(a, 4);
    const uint32_t* lin = P<uint32_t>(a, 5);
    uint32_t m = lin[k];
    if (m != kNone && heat[k] >= thr) {
      if (m < uint64_t(total) && lin[m] < m) m = lin[m];
      const int64_t q = k % w, r = (k % cells) / w;
      for (int64_t j = k - 1, c = q - 1; c >= 0 && heat[j] >= thr; --j, --c) m = lin[j] < m ? lin[j] : m;
      for (int64_t j = k + 1, c = q + 1; c < w && heat[j] >= thr; ++j, ++c) m = lin[j] < m ? lin[j] : m;
      for (int64_t j = k - w, c = r - 1; c >= 0 && heat[j] >= thr; j -= w, --c) m = lin[j] < m ? lin[j] : m;
      for (int64_t j = k + w, c = r + 1; c < h && heat[j] >= thr; j += w, ++c) m = lin[j] < m ? lin[j] : m;
    }
    P<uint32_t>(a, 6)[k] = m;
  }
};

XDEV_HD double js_max(double x, double y) { return (x != x || y != y) ? NAN : (x > y ? x : y); }

// hm_regions(C, h, w, min_cells, stride_x, stride_y, heat, lab, rows f32[C*h*w*6],
// keep u32[C*h*w]): at each region's first cell, its box refined to sub-cell edges, mean
// coverage and class [x1, y1, x2, y2, score, class], kept when it has min_cells cells.
struct HmRegions : N0 {
  XDEV_HD static int64_t items(const Args& a) { return I(a, 0) * I(a, 1) * I(a, 2); }
  XDEV_HD static void item(const Args& a, int64_t k) {
    uint32_t* keep = P<uint32_t>(a, 9);
    keep[k] = 0;
    const uint32_t* lab = P<uint32_t>(a, 7);
    if (lab[k] != uint32_t(k)) return;
    const int64_t h = I(a, 1), w = I(a, 2), cells = h * w, cls = k / cells, base = cls * cells;
    const float* heat = P<float>(a, 6) + base;
    int64_t c0 = w, c1 = -1, r0 = h, r1 = -1, count = 0;
    double sum = 0;
    for (int64_t j = 0; j < cells; ++j) {
      if (lab[base + j] != uint32_t(k)) continue;
      const int64_t r = j / w, q = j % w;
      sum += double(heat[j]);
      ++count;
      c0 = imin(c0, q), c1 = imax(c1, q), r0 = imin(r0, r), r1 = imax(r1, r);
    }
    if (count < I(a, 3)) return;
    auto col = [&](int64_t q) {
      if (q < 0 || q >= w) return 0.0;
      double m = 0;
      for (int64_t r = r0; r <= r1; ++r) m = js_max(m, heat[r * w + q]);
      return m;
    };
    auto row = [&](int64_t r) {
      if (r < 0 || r >= h) return 0.0;
      double m = 0;
      for (int64_t q = c0; q <= c1; ++q) m = js_max(m, heat[r * w + q]);
      return m;
    };
    const double x1 = double(c0) + 1 - col(c0) - col(c0 - 1), x2 = double(c1) + col(c1) + col(c1 + 1);
    const double y1 = double(r0) + 1 - row(r0) - row(r0 - 1), y2 = double(r1) + row(r1) + row(r1 + 1);
    float* o = P<float>(a, 8) + k * 6;
    o[0] = float(x1 * D(a, 4));
    o[1] = float(y1 * D(a, 5));
    o[2] = float(x2 * D(a, 4));
    o[3] = float(y2 * D(a, 5));
    o[4] = float(sum / double(count));
    o[5] = float(cls);
    keep[k] = 1;
  }
};

// yolo_decode(N, rows, nmap, thr, sx, sy, head f32[rows*N], map i32[nmap], rows f32[N*6],
// keep u32[N]): best class per anchor at or above thr, mapped (nmap = 0 keeps ids), as a
// box scaled to image pixels [x1, y1, x2, y2, score, class].
struct YoloDecode : N0 {
  XDEV_HD static void item(const Args& a, int64_t j) {
    const int64_t N = I(a, 0), nc = I(a, 1) - 4, nmap = I(a, 2);
    const float* d = P<float>(a, 6);
    uint32_t* keep = P<uint32_t>(a, 9);
    keep[j] = 0;
    int64_t best = -1;
    double score = -INFINITY;
    for (int64_t c = 0; c < nc; ++c) {
      const double s = d[(4 + c) * N + j];
      if (s > score) score = s, best = c;
    }
    if (!(score >= D(a, 3))) return;
    const int64_t cls = nmap ? (best < nmap ? int64_t(P<int32_t>(a, 7)[best]) : -1) : best;
    if (cls < 0) return;
    const double cx = d[j], cy = d[N + j], bw = d[2 * N + j], bh = d[3 * N + j];
    if (!isfinite(cx + cy + bw + bh)) return;
    float* o = P<float>(a, 8) + j * 6;
    o[0] = float((cx - bw / 2) * D(a, 4));
    o[1] = float((cy - bh / 2) * D(a, 5));
    o[2] = float((cx + bw / 2) * D(a, 4));
    o[3] = float((cy + bh / 2) * D(a, 5));
    o[4] = float(score);
    o[5] = float(cls);
    keep[j] = 1;
  }
};

// ---- camera preprocess -----------------------------------------------------------------------

// Source index pair and weight along one axis (ONNX Resize linear, half-pixel, clamped).
XDEV_HD void axis_at(int64_t in, int64_t out, int64_t o, int64_t* i0, int64_t* i1, float* w1) {
  const double scale = double(out) / double(in);
  double x = (double(o) + 0.5) / scale - 0.5;
  x = fmin(fmax(x, 0.0), double(in - 1));
  const double f = floor(x);
  *i0 = int64_t(f);
  *i1 = imin(int64_t(f) + 1, in - 1);
  *w1 = float(x - f);
}

// preprocess(sw, sh, step, c0, dw, dh, src u8[sh*step], dst f32[3*dw*dh], k0, k1, k2, b0, b1,
// b2): bilinear resize of an rgb8 (c0 = 0) or bgr8 (c0 = 2) image and v * k + b per channel,
// into planar float32; one block per output row.
struct Preprocess {
  static constexpr bool serial = false;
  XDEV_HD static int64_t items(const Args& a) { return I(a, 4) * I(a, 5); }
  XDEV_HD static int64_t per(const Args& a) { return I(a, 4); }
  XDEV_HD static uint32_t grid(const Args& a) { return uint32_t(I(a, 5)); }
  XDEV_HD static void item(const Args& a, int64_t i) {
    const int64_t sw = I(a, 0), sh = I(a, 1), step = I(a, 2), c0 = I(a, 3) == 2 ? 2 : 0, dw = I(a, 4), dh = I(a, 5);
    if (sw == 0 || sh == 0 || step < sw * 3) return;
    const int64_t x = i % dw, y = i / dw;
    int64_t x0, x1, y0, y1;
    float fx, fy;
    axis_at(sw, dw, x, &x0, &x1, &fx);
    axis_at(sh, dh, y, &y0, &y1, &fy);
    const uint8_t* src = P<uint8_t>(a, 6);
    float* dst = P<float>(a, 7);
    const int64_t ta = y0 * step + x0 * 3, tb = y0 * step + x1 * 3, ba = y1 * step + x0 * 3, bb = y1 * step + x1 * 3;
    const int64_t plane = dw * dh;
    for (int c = 0; c < 3; ++c) {
      const int64_t ch = c == 0 ? c0 : (c == 2 ? 2 - c0 : 1);
      const double top = double(src[ta + ch]) + (double(src[tb + ch]) - double(src[ta + ch])) * double(fx);
      const double bot = double(src[ba + ch]) + (double(src[bb + ch]) - double(src[ba + ch])) * double(fx);
      dst[c * plane + y * dw + x] = float((top + (bot - top) * double(fy)) * D(a, 8 + c) + D(a, 11 + c));
    }
  }
};

}  // namespace ops
}  // namespace xdev
