// Lidar kernels: voxel-grid downsample, RANSAC ground removal, euclidean clustering. Same
// algorithms and arithmetic as xnodes/lidar/kernels.ts (double accumulation, same visiting
// order, same mulberry32 PRNG), so both implementations agree up to float rounding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace xauto {

/** Points are [x, y, z, intensity] float quadruples. */
std::vector<float> VoxelGrid(const float* points, size_t n, double leaf);

struct GroundParams {
  double distance;
  int iterations;
  double maxSlopeDeg;
  uint32_t seed;
};
std::vector<float> RemoveGround(const float* points, size_t n, const GroundParams& p, double plane[4]);

struct ClusterParams {
  double tolerance;
  size_t minPoints;
  size_t maxPoints;
};
constexpr int kClusterStride = 10;
std::vector<float> EuclideanClusters(const float* points, size_t n, const ClusterParams& p);

}  // namespace xauto
