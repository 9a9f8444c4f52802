// The synthetic camera's renderer: the same algorithm and arithmetic as
// xnodes/sensors/camera-render.ts (doubles throughout, the same expression order, the same
// uint8 conversions), so both produce the same image byte for byte. The look (colours, haze,
// shading) and the road layout come from the JS side, which defines them once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace xauto {

struct RoadLayout {
  double road[2];
  double bike[2];
  double sidewalks[2][2];
  double solid[3];   // solid marking lines (y)
  double dashed[2];  // dashed marking lines (y)
  double markHalf;   // half width of a marking (m)
  double dashPeriod;
  double dashLength;
};

struct CameraLook {
  double classRgb[3][3];
  double groundRgb[5][3];
  double skyTop[3];
  double skyHorizon[3];
  double hazeStart;
  double hazeEnd;
  double faceShade[6];
  int outline;
  double rim;
};

/** One object as the JS side packs it: index, class, centre and its 8 box corners. */
constexpr int kObjectStride = 29;

class CameraRender {
 public:
  CameraRender(int width, int height, double fx, double fy, double cx, double cy, double cameraHeight, const int8_t* noise, size_t noiseSize,
               const CameraLook& look, const RoadLayout& road);

  /**
   * Renders into rgb (width * height * 3 bytes). `objects` holds `count` packed objects in
   * painter's order (far first); `total` is how many objects the scene has (gt arrays).
   * Fills boxes (4 per object: u0 v0 u1 v1, +-inf when unseen), seen and full pixel counts.
   */
  void Render(const double* objects, int count, int total, double odometer, double frame, uint8_t* rgb, double* boxes, int32_t* seen, int32_t* full);

 private:
  void Background(uint8_t* rgb, double odometer) const;
  void Object(uint8_t* rgb, const double* o, int32_t* full);
  void FillQuad(uint8_t* rgb, const int* face, double r, double g, double b, int index, int32_t* full);
  void Outline(uint8_t* rgb, const std::vector<double>& xByIndex) const;
  void Noise(uint8_t* rgb, double frame) const;
  int GroundAt(double x, double y) const;

  int w_, h_;
  double fx_, fy_, cx_, cy_, camH_;
  std::vector<double> rowDist_, colRay_;
  std::vector<int8_t> noise_;
  std::vector<uint16_t> ids_;
  CameraLook look_;
  RoadLayout road_;
  double px_[8], py_[8];
};

}  // namespace xauto
