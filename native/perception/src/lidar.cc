#include "lidar.h"

#include <cmath>
#include <unordered_map>

namespace xauto {
namespace {

// mulberry32, as xnodes/perception-common/rng.ts.
class Rng {
 public:
  explicit Rng(uint32_t seed) : s_(seed) {}
  uint32_t U32() {
    s_ += 0x6d2b79f5u;
    uint32_t t = s_;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
  }

 private:
  uint32_t s_;
};

constexpr int64_t kVoxelLimit = 32767;

}  // namespace

std::vector<float> VoxelGrid(const float* p, size_t n, double leaf) {
  // Open-addressing hash from voxel key to slot; slots in order of first point.
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  const size_t mask = cap - 1;
  std::vector<uint64_t> keys(cap);
  std::vector<int32_t> slots(cap, -1);
  std::vector<double> sums(n * 4, 0.0);
  std::vector<uint32_t> counts(n, 0);
  uint32_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const double x = p[i * 4], y = p[i * 4 + 1], z = p[i * 4 + 2];
    const double fx = std::floor(x / leaf), fy = std::floor(y / leaf), fz = std::floor(z / leaf);
    if (!(std::fabs(fx) <= kVoxelLimit && std::fabs(fy) <= kVoxelLimit && std::fabs(fz) <= kVoxelLimit)) continue;
    const int32_t ix = (int32_t)fx, iy = (int32_t)fy, iz = (int32_t)fz;
    const uint64_t key = ((uint64_t)(ix + 32768) << 32) | ((uint64_t)(iy + 32768) << 16) | (uint64_t)(iz + 32768);
    size_t h = ((uint32_t)ix * 73856093u ^ (uint32_t)iy * 19349663u ^ (uint32_t)iz * 83492791u) & mask;
    while (slots[h] != -1 && keys[h] != key) h = (h + 1) & mask;
    if (slots[h] == -1) slots[h] = (int32_t)m++, keys[h] = key;
    const uint32_t s = (uint32_t)slots[h];
    sums[s * 4] += x;
    sums[s * 4 + 1] += y;
    sums[s * 4 + 2] += z;
    sums[s * 4 + 3] += p[i * 4 + 3];
    counts[s]++;
  }
  std::vector<float> out(m * 4);
  for (size_t s = 0; s < m; s++) {
    for (int k = 0; k < 4; k++) out[s * 4 + k] = (float)(sums[s * 4 + k] / counts[s]);
  }
  return out;
}

std::vector<float> RemoveGround(const float* p, size_t n, const GroundParams& g, double plane[4]) {
  plane[0] = 0, plane[1] = 0, plane[2] = 1, plane[3] = 0;
  if (n < 3) return std::vector<float>(p, p + n * 4);
  Rng rng(g.seed);
  const double minNz = std::cos(g.maxSlopeDeg * M_PI / 180);
  long best = -1;
  for (int it = 0; it < g.iterations; it++) {
    const uint32_t i = rng.U32() % n, j = rng.U32() % n, k = rng.U32() % n;
    const double ax = p[i * 4], ay = p[i * 4 + 1], az = p[i * 4 + 2];
    const double ux = p[j * 4] - ax, uy = p[j * 4 + 1] - ay, uz = p[j * 4 + 2] - az;
    const double vx = p[k * 4] - ax, vy = p[k * 4 + 1] - ay, vz = p[k * 4 + 2] - az;
    double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const double len = std::sqrt(nx * nx + ny * ny + nz * nz);
    if (!(len > 1e-9)) continue;
    if (nz < 0) nx = -nx, ny = -ny, nz = -nz;
    nx /= len;
    ny /= len;
    nz /= len;
    if (nz < minNz) continue;
    const double d = -(nx * ax + ny * ay + nz * az);
    long count = 0;
    for (size_t q = 0; q < n; q++) {
      const double dist = nx * p[q * 4] + ny * p[q * 4 + 1] + nz * p[q * 4 + 2] + d;
      if (dist < g.distance && dist > -g.distance) count++;
    }
    if (count > best) best = count, plane[0] = nx, plane[1] = ny, plane[2] = nz, plane[3] = d;
  }
  std::vector<float> out;
  out.reserve(n * 4);
  for (size_t q = 0; q < n; q++) {
    if (plane[0] * p[q * 4] + plane[1] * p[q * 4 + 1] + plane[2] * p[q * 4 + 2] + plane[3] >= g.distance) {
      out.insert(out.end(), p + q * 4, p + q * 4 + 4);
    }
  }
  return out;
}

namespace {
inline uint64_t CellKey(int64_t x, int64_t y) { return ((uint64_t)(x + 33554432) << 26) | (uint64_t)(y + 33554432); }
}  // namespace

// Clusters on the ground plane (x, y), as xnodes/lidar/kernels.ts explains.
std::vector<float> EuclideanClusters(const float* p, size_t n, const ClusterParams& c) {
  const double tol = c.tolerance, tol2 = tol * tol;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells;
  cells.reserve(n);
  for (size_t i = 0; i < n; i++) {
    cells[CellKey((int64_t)std::floor(p[i * 4] / tol), (int64_t)std::floor(p[i * 4 + 1] / tol))].push_back((uint32_t)i);
  }
  std::vector<uint8_t> visited(n, 0);
  std::vector<uint32_t> queue(n);
  std::vector<float> out;
  for (size_t seed = 0; seed < n; seed++) {
    if (visited[seed]) continue;
    size_t head = 0, tail = 0;
    queue[tail++] = (uint32_t)seed;
    visited[seed] = 1;
    while (head < tail) {
      const uint32_t i = queue[head++];
      const float x = p[i * 4], y = p[i * 4 + 1];
      const int64_t cx = (int64_t)std::floor(x / tol), cy = (int64_t)std::floor(y / tol);
      for (int dx = -1; dx <= 1; dx++) {
        for (int dy = -1; dy <= 1; dy++) {
          auto it = cells.find(CellKey(cx + dx, cy + dy));
          if (it == cells.end()) continue;
          for (uint32_t j : it->second) {
            if (visited[j]) continue;
            const double ex = (double)p[j * 4] - x, ey = (double)p[j * 4 + 1] - y;
            if (ex * ex + ey * ey <= tol2) {
              visited[j] = 1;
              queue[tail++] = j;
            }
          }
        }
      }
    }
    if (tail < c.minPoints || tail > c.maxPoints) continue;
    double sx = 0, sy = 0, sz = 0;
    float x0 = INFINITY, y0 = INFINITY, z0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, z1 = -INFINITY;
    for (size_t q = 0; q < tail; q++) {
      const uint32_t i = queue[q];
      const float x = p[i * 4], y = p[i * 4 + 1], z = p[i * 4 + 2];
      sx += x, sy += y, sz += z;
      x0 = std::fmin(x0, x), y0 = std::fmin(y0, y), z0 = std::fmin(z0, z);
      x1 = std::fmax(x1, x), y1 = std::fmax(y1, y), z1 = std::fmax(z1, z);
    }
    const float box[kClusterStride] = {(float)(sx / tail), (float)(sy / tail), (float)(sz / tail), x0, y0, z0, x1, y1, z1, (float)tail};
    out.insert(out.end(), box, box + kClusterStride);
  }
  return out;
}

}  // namespace xauto
