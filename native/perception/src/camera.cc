#include "camera.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace xauto {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Box faces as corner indices, as in camera-render.ts.
constexpr int kFaces[6][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {0, 3, 7, 4}, {1, 2, 6, 5}, {0, 1, 5, 4}, {3, 2, 6, 7}};

// What storing a Number into a Uint8Array does: truncate, then modulo 256.
inline uint8_t ToUint8(double v) {
  if (v >= 0 && v < 256) return uint8_t(v);
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), 256.0);
  return uint8_t(m < 0 ? m + 256 : m);
}

// floor for the pixel loop: exact for |v| < 2^62 (all coordinates here), and inlined where
// std::floor is a libm call on baseline x86-64. It returns +0 for -0, which no use here tells
// apart (ToInt32 and == treat them alike).
inline double Floor(double v) {
  const double t = double(int64_t(v));
  return t > v ? t - 1 : t;
}

// ECMAScript ToInt32 (what `|` and `^` do to a Number).
inline int32_t ToInt32(double v) {
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return int32_t(uint32_t(m));
}

}  // namespace

CameraRender::CameraRender(int width, int height, double fx, double fy, double cx, double cy, double cameraHeight, const int8_t* noise,
                           size_t noiseSize, const CameraLook& look, const RoadLayout& road)
    : w_(width), h_(height), fx_(fx), fy_(fy), cx_(cx), cy_(cy), camH_(cameraHeight), noise_(noise, noise + noiseSize),
      ids_(size_t(width) * size_t(height)), look_(look), road_(road) {
  rowDist_.resize(height);
  for (int v = 0; v < height; v++) {
    double dv = v + 0.5 - cy_;
    rowDist_[v] = dv > 0 ? (fy_ * camH_) / dv : kInf;
  }
  colRay_.resize(width);
  for (int u = 0; u < width; u++) colRay_[u] = -(u + 0.5 - cx_) / fx_;
}

int CameraRender::GroundAt(double x, double y) const {
  const RoadLayout& r = road_;
  const double h = r.markHalf;
  if (y >= r.road[0] && y <= r.road[1]) {
    if (std::fabs(y - r.solid[0]) < h || std::fabs(y - r.solid[1]) < h || std::fabs(y - r.solid[2]) < h) return 1;
    if ((std::fabs(y - r.dashed[0]) < h || std::fabs(y - r.dashed[1]) < h) &&
        std::fmod(std::fmod(x, r.dashPeriod) + r.dashPeriod, r.dashPeriod) < r.dashLength)
      return 1;
    return 0;
  }
  if (y >= r.bike[0] && y < r.bike[1]) return 2;
  if ((y >= r.sidewalks[0][0] && y <= r.sidewalks[0][1]) || (y >= r.sidewalks[1][0] && y <= r.sidewalks[1][1])) return 3;
  return 4;
}

void CameraRender::Background(uint8_t* rgb, double odometer) const {
  const size_t row = size_t(w_) * 3;
  const CameraLook& L = look_;
  for (int v = 0; v < h_; v++) {
    const double d = rowDist_[v];
    uint8_t* p0 = rgb + size_t(v) * row;
    if (!std::isfinite(d) || d > L.hazeEnd) {
      const double a = std::min(1.0, std::max(0.0, (cy_ - v) / cy_));
      for (int c = 0; c < 3; c++) p0[c] = ToUint8(L.skyHorizon[c] + (L.skyTop[c] - L.skyHorizon[c]) * a);
      for (size_t p = 3; p < row; p += 3) std::memcpy(p0 + p, p0, 3);
      continue;
    }
    const double haze = std::min(1.0, std::max(0.0, (d - L.hazeStart) / (L.hazeEnd - L.hazeStart)));
    const double x = d + odometer;
    const int32_t hx = ToInt32(std::floor(x * 2) * 73856093.0);
    bool first = true;
    double cell = 0;
    int kind = -1;
    uint8_t r = 0, g = 0, b = 0;
    uint8_t* p = p0;
    for (int u = 0; u < w_; u++, p += 3) {
      const double y = colRay_[u] * d;
      const double c = Floor(y * 2);
      const int k = GroundAt(x, y);
      if (first || c != cell || k != kind) {
        first = false;
        cell = c;
        kind = k;
        const double tex = double(uint32_t(hx ^ ToInt32(c * 19349663.0)) % 17u) - 8;
        const double* base = L.groundRgb[k];
        if (haze == 0) {
          r = ToUint8(base[0] + tex);
          g = ToUint8(base[1] + tex);
          b = ToUint8(base[2] + tex);
        } else {
          r = ToUint8(base[0] + tex + (L.skyHorizon[0] - base[0] - tex) * haze);
          g = ToUint8(base[1] + tex + (L.skyHorizon[1] - base[1] - tex) * haze);
          b = ToUint8(base[2] + tex + (L.skyHorizon[2] - base[2] - tex) * haze);
        }
      }
      p[0] = r;
      p[1] = g;
      p[2] = b;
    }
  }
}

void CameraRender::Object(uint8_t* rgb, const double* o, int32_t* full) {
  const int index = int(o[0]);
  const double ox = o[2], oy = o[3], oz = o[4];
  const double* c = o + 5;
  for (int k = 0; k < 8; k++)
    if (c[k * 3] < 0.3) return;  // behind the near plane: not drawn
  for (int k = 0; k < 8; k++) {
    const double X = c[k * 3];
    px_[k] = cx_ - (fx_ * c[k * 3 + 1]) / X;
    py_[k] = cy_ - (fy_ * (c[k * 3 + 2] - camH_)) / X;
  }
  const double* base = look_.classRgb[int(o[1])];
  for (int f = 0; f < 6; f++) {
    const int* face = kFaces[f];
    const int a = face[0], b = face[1], d = face[3];
    const double ux = c[b * 3] - c[a * 3], uy = c[b * 3 + 1] - c[a * 3 + 1], uz = c[b * 3 + 2] - c[a * 3 + 2];
    const double vx = c[d * 3] - c[a * 3], vy = c[d * 3 + 1] - c[a * 3 + 1], vz = c[d * 3 + 2] - c[a * 3 + 2];
    double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const double fcx = (c[a * 3] + c[face[2] * 3]) / 2 - ox, fcy = (c[a * 3 + 1] + c[face[2] * 3 + 1]) / 2 - oy,
                 fcz = (c[a * 3 + 2] + c[face[2] * 3 + 2]) / 2 - oz;
    if (nx * fcx + ny * fcy + nz * fcz < 0) nx = -nx, ny = -ny, nz = -nz;
    const double tox = -c[a * 3], toy = -c[a * 3 + 1], toz = camH_ - c[a * 3 + 2];
    if (nx * tox + ny * toy + nz * toz <= 0) continue;
    const double s = look_.faceShade[f];
    FillQuad(rgb, face, base[0] * s, base[1] * s, base[2] * s, index, full);
  }
}

void CameraRender::FillQuad(uint8_t* rgb, const int* face, double r, double g, double b, int index, int32_t* full) {
  double y0 = kInf, y1 = -kInf;
  for (int e = 0; e < 4; e++) y0 = std::min(y0, py_[face[e]]), y1 = std::max(y1, py_[face[e]]);
  const double vStart = std::max(0.0, std::ceil(y0 - 0.5));
  const double vEnd = std::min(double(h_ - 1), std::floor(y1 - 0.5));
  const uint8_t R = ToUint8(r), G = ToUint8(g), B = ToUint8(b);
  const uint16_t id = uint16_t(index + 1);
  int64_t count = 0;
  for (double v = vStart; v <= vEnd; v++) {
    const double yc = v + 0.5;
    double xl = kInf, xr = -kInf;
    for (int e = 0; e < 4; e++) {
      const int k0 = face[e], k1 = face[(e + 1) & 3];
      const double ya = py_[k0], yb = py_[k1];
      if ((yc < ya && yc < yb) || (yc > ya && yc > yb) || ya == yb) continue;
      const double x = px_[k0] + ((yc - ya) / (yb - ya)) * (px_[k1] - px_[k0]);
      if (x < xl) xl = x;
      if (x > xr) xr = x;
    }
    const double uStart = std::max(0.0, std::ceil(xl - 0.5));
    const double uEnd = std::min(double(w_ - 1), std::floor(xr - 0.5));
    if (!(uEnd >= uStart)) continue;
    const int vi = int(v);
    for (int u = int(uStart); u <= int(uEnd); u++) {
      const size_t q = size_t(vi) * w_ + u;
      rgb[q * 3] = R;
      rgb[q * 3 + 1] = G;
      rgb[q * 3 + 2] = B;
      ids_[q] = id;
    }
    count += int64_t(uEnd) - int64_t(uStart) + 1;
  }
  full[index] += int32_t(count);
}

void CameraRender::Outline(uint8_t* rgb, const std::vector<double>& X) const {
  const int W = w_, H = h_, n = look_.outline;
  const uint16_t* ids = ids_.data();
  for (int v = 0, p = 0; v < H; v++) {
    for (int u = 0; u < W; u++, p++) {
      const int id = ids[p];
      if (id == 0) continue;
      const double x = X[id - 1];
      auto nearer = [&](int j) { return j != 0 && j != id && X[j - 1] < x; };
      bool rim = false;
      for (int d = 1; d <= n && !rim; d++) {
        rim = (u + d < W && nearer(ids[p + d])) || (u - d >= 0 && nearer(ids[p - d])) || (v + d < H && nearer(ids[p + d * W])) ||
              (v - d >= 0 && nearer(ids[p - d * W]));
      }
      if (rim) {
        for (int c = 0; c < 3; c++) rgb[size_t(p) * 3 + c] = ToUint8(rgb[size_t(p) * 3 + c] * look_.rim);
      }
    }
  }
}

void CameraRender::Noise(uint8_t* rgb, double frame) const {
  const size_t len = size_t(w_) * h_ * 3;
  const size_t size = noise_.size();
  const uint32_t wordMask = uint32_t(size / 4 - 1);
  // As the JS: the table start moves by whole words with the frame.
  const uint32_t f = uint32_t(uint64_t(int64_t(frame)) * 7919u);
  const size_t start = size_t((f >> 2) & wordMask) * 4;
  const size_t words = len / 4;
  // In runs that do not wrap around the table, so the compiler vectorises the clamped add.
  for (size_t p = 0, j = start; p < words * 4; j = 0) {
    const size_t run = std::min(words * 4 - p, size - j);
    const int8_t* n = noise_.data() + j;
    uint8_t* q = rgb + p;
    for (size_t i = 0; i < run; i++) {
      const int v = int(q[i]) + n[i];
      q[i] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    p += run;
  }
  for (size_t p = words * 4; p < len; p++) {
    const int v = int(rgb[p]) + noise_[p & (size - 1)];
    rgb[p] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

void CameraRender::Render(const double* objects, int count, int total, double odometer, double frame, uint8_t* rgb, double* boxes, int32_t* seen,
                          int32_t* full) {
  std::fill(ids_.begin(), ids_.end(), 0);
  Background(rgb, odometer);
  std::fill(full, full + total, 0);
  std::vector<double> X(size_t(total), 0.0);
  for (int i = 0; i < count; i++) X[size_t(objects[i * kObjectStride])] = objects[i * kObjectStride + 2];
  for (int i = 0; i < count; i++) Object(rgb, objects + i * kObjectStride, full);
  Outline(rgb, X);
  Noise(rgb, frame);
  for (int i = 0; i < total; i++) {
    boxes[i * 4] = kInf, boxes[i * 4 + 1] = kInf, boxes[i * 4 + 2] = -kInf, boxes[i * 4 + 3] = -kInf;
    seen[i] = 0;
  }
  for (int v = 0, p = 0; v < h_; v++) {
    for (int u = 0; u < w_; u++, p++) {
      const int id = ids_[p];
      if (id == 0) continue;
      double* bx = boxes + (id - 1) * 4;
      seen[id - 1]++;
      if (u < bx[0]) bx[0] = u;
      if (v < bx[1]) bx[1] = v;
      if (u + 1 > bx[2]) bx[2] = u + 1;
      if (v + 1 > bx[3]) bx[3] = v + 1;
    }
  }
}

}  // namespace xauto
