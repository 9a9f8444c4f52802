// Box decoding of detector outputs, as xnodes/detect/decode-kernel.ts does it: the same
// visiting order and double arithmetic, so both give the same boxes bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace xauto {

struct DecodedBox {
  double x1, y1, x2, y2, score;
  int32_t cls;
};

/** Heatmaps [1, C, h, w]: 4-connected regions at or above `threshold`, sub-cell edges. */
void DecodeHeatmap(const float* data, int C, int h, int w, double threshold, int minCells, double strideX, double strideY,
                   std::vector<int32_t>& labels, std::vector<int32_t>& stack, std::vector<DecodedBox>& out);

/** YOLOv8 heads [1, 4 + nc, N]: best class per anchor at or above `scoreThreshold`, mapped by `classMap` (empty: ids kept). */
void DecodeYolo(const float* data, int rows, int N, double scoreThreshold, const std::vector<int32_t>& classMap, double sx, double sy,
                std::vector<DecodedBox>& out);

}  // namespace xauto
