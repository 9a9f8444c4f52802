#include "decode.h"

#include <algorithm>
#include <cmath>

namespace xauto {

namespace {
// Math.max: NaN wins, so a NaN neighbour gives the same (NaN) edge as in JS.
double JsMax(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b); }
}  // namespace

void DecodeHeatmap(const float* data, int C, int h, int w, double threshold, int minCells, double strideX, double strideY,
                   std::vector<int32_t>& labels, std::vector<int32_t>& stack, std::vector<DecodedBox>& out) {
  const int cells = h * w;
  if ((int)labels.size() < cells) {
    labels.assign(cells, 0);
    stack.assign(cells, 0);
  }
  int32_t* lab = labels.data();
  int32_t* st = stack.data();
  for (int c = 0; c < C; c++) {
    const float* d = data + (size_t)c * cells;
    std::fill(lab, lab + cells, 0);
    for (int seed = 0; seed < cells; seed++) {
      if (lab[seed] != 0 || d[seed] < threshold) continue;
      int top = 0;
      st[top++] = seed;
      lab[seed] = 1;
      int c0 = w, c1 = -1, r0 = h, r1 = -1, count = 0;
      double sum = 0;
      while (top > 0) {
        const int k = st[--top];
        const int r = k / w;
        const int q = k - r * w;
        sum += d[k];
        count++;
        c0 = std::min(c0, q);
        c1 = std::max(c1, q);
        r0 = std::min(r0, r);
        r1 = std::max(r1, r);
        if (q > 0 && lab[k - 1] == 0 && d[k - 1] >= threshold) lab[k - 1] = 1, st[top++] = k - 1;
        if (q < w - 1 && lab[k + 1] == 0 && d[k + 1] >= threshold) lab[k + 1] = 1, st[top++] = k + 1;
        if (r > 0 && lab[k - w] == 0 && d[k - w] >= threshold) lab[k - w] = 1, st[top++] = k - w;
        if (r < h - 1 && lab[k + w] == 0 && d[k + w] >= threshold) lab[k + w] = 1, st[top++] = k + w;
      }
      if (count < minCells) continue;
      // Sub-cell edges: a border cell covered by fraction f moves the edge in by 1 - f; an
      // outside neighbour covered by g moves it out by g.
      auto col = [&](int q) {
        double m = 0;
        if (q < 0 || q >= w) return m;
        for (int r = r0; r <= r1; r++) m = JsMax(m, d[r * w + q]);
        return m;
      };
      auto row = [&](int r) {
        double m = 0;
        if (r < 0 || r >= h) return m;
        for (int q = c0; q <= c1; q++) m = JsMax(m, d[r * w + q]);
        return m;
      };
      const double x1 = c0 + 1.0 - col(c0) - col(c0 - 1);
      const double x2 = c1 + col(c1) + col(c1 + 1);
      const double y1 = r0 + 1.0 - row(r0) - row(r0 - 1);
      const double y2 = r1 + row(r1) + row(r1 + 1);
      out.push_back({x1 * strideX, y1 * strideY, x2 * strideX, y2 * strideY, sum / count, c});
    }
  }
}

void DecodeYolo(const float* data, int rows, int N, double scoreThreshold, const std::vector<int32_t>& classMap, double sx, double sy,
                std::vector<DecodedBox>& out) {
  const int nc = rows - 4;
  for (int j = 0; j < N; j++) {
    int best = -1;
    double score = -INFINITY;
    for (int c = 0; c < nc; c++) {
      const double s = data[(size_t)(4 + c) * N + j];
      if (s > score) score = s, best = c;
    }
    if (!(score >= scoreThreshold)) continue;
    const int32_t cls = classMap.empty() ? best : (best < (int)classMap.size() ? classMap[best] : -1);
    if (cls < 0) continue;
    const double cx = data[j], cy = data[N + j], bw = data[2 * N + j], bh = data[3 * N + j];
    if (!std::isfinite(cx + cy + bw + bh)) continue;
    out.push_back({(cx - bw / 2) * sx, (cy - bh / 2) * sy, (cx + bw / 2) * sx, (cy + bh / 2) * sy, score, cls});
  }
}

}  // namespace xauto
