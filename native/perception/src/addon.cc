// xauto_perception: the lidar kernels, the detector-output decoders and the synthetic camera's renderer as Promise-returning
// functions whose work runs on libuv pool threads (Napi::AsyncWorker). Inputs are Float32Arrays of [x, y, z, intensity]; the
// caller must not mutate them until the promise settles (stages never mutate inputs). Results
// come back as new Float32Arrays.
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "camera.h"
#include "lidar.h"

void InitDecode(Napi::Env env, Napi::Object exports);  // addon_decode.cc

namespace {

using xauto::ClusterParams;
using xauto::GroundParams;

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, Napi::Float32Array points)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), data_(points.Data()), n_(points.ElementLength() / 4) {
    ref_ = Napi::Persistent(points);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void OnOK() override {
    Napi::Env env = Env();
    auto out = Napi::Float32Array::New(env, result_.size());
    if (!result_.empty()) std::memcpy(out.Data(), result_.data(), result_.size() * sizeof(float));
    Resolve(env, out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  virtual void Resolve(Napi::Env, Napi::Float32Array out) { deferred_.Resolve(out); }

  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> ref_;
  const float* data_;
  size_t n_;
  std::vector<float> result_;
};

class VoxelWorker : public KernelWorker {
 public:
  VoxelWorker(Napi::Env env, Napi::Float32Array pts, double leaf) : KernelWorker(env, pts), leaf_(leaf) {}
  void Execute() override { result_ = xauto::VoxelGrid(data_, n_, leaf_); }

 private:
  double leaf_;
};

class GroundWorker : public KernelWorker {
 public:
  GroundWorker(Napi::Env env, Napi::Float32Array pts, GroundParams p) : KernelWorker(env, pts), p_(p) {}
  void Execute() override { result_ = xauto::RemoveGround(data_, n_, p_, plane_); }
  void Resolve(Napi::Env env, Napi::Float32Array out) override {
    auto o = Napi::Object::New(env);
    o.Set("points", out);
    auto plane = Napi::Float64Array::New(env, 4);
    for (int k = 0; k < 4; k++) plane[k] = plane_[k];
    o.Set("plane", plane);
    deferred_.Resolve(o);
  }

 private:
  GroundParams p_;
  double plane_[4] = {0, 0, 1, 0};
};

class ClusterWorker : public KernelWorker {
 public:
  ClusterWorker(Napi::Env env, Napi::Float32Array pts, ClusterParams p) : KernelWorker(env, pts), p_(p) {}
  void Execute() override { result_ = xauto::EuclideanClusters(data_, n_, p_); }

 private:
  ClusterParams p_;
};

bool Args(const Napi::CallbackInfo& info, size_t numbers) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 + numbers || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, "expected (points: Float32Array, ...numbers)").ThrowAsJavaScriptException();
    return false;
  }
  for (size_t i = 1; i <= numbers; i++) {
    if (!info[i].IsNumber()) {
      Napi::TypeError::New(env, "expected a number argument").ThrowAsJavaScriptException();
      return false;
    }
  }
  if (info[0].As<Napi::Float32Array>().ElementLength() % 4 != 0) {
    Napi::RangeError::New(env, "points: length must be a multiple of 4 (x, y, z, intensity)").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

// voxelGrid(points, leaf) -> Promise<Float32Array>
Napi::Value VoxelGrid(const Napi::CallbackInfo& info) {
  if (!Args(info, 1)) return info.Env().Undefined();
  auto* w = new VoxelWorker(info.Env(), info[0].As<Napi::Float32Array>(), Num(info, 1));
  auto p = w->Promise();
  w->Queue();
  return p;
}

// removeGround(points, distance, iterations, maxSlopeDeg, seed) -> Promise<{points, plane}>
Napi::Value RemoveGround(const Napi::CallbackInfo& info) {
  if (!Args(info, 4)) return info.Env().Undefined();
  GroundParams p{Num(info, 1), (int)Num(info, 2), Num(info, 3), (uint32_t)(int64_t)Num(info, 4)};
  auto* w = new GroundWorker(info.Env(), info[0].As<Napi::Float32Array>(), p);
  auto promise = w->Promise();
  w->Queue();
  return promise;
}

// euclideanClusters(points, tolerance, minPoints, maxPoints) -> Promise<Float32Array>
Napi::Value EuclideanClusters(const Napi::CallbackInfo& info) {
  if (!Args(info, 3)) return info.Env().Undefined();
  ClusterParams p{Num(info, 1), (size_t)Num(info, 2), (size_t)Num(info, 3)};
  auto* w = new ClusterWorker(info.Env(), info[0].As<Napi::Float32Array>(), p);
  auto promise = w->Promise();
  w->Queue();
  return promise;
}

// ---- the synthetic camera ----

// new CameraRenderer({width, height, fx, fy, cx, cy, cameraHeight, maxObjects, noise: Int8Array,
//   look: Float64Array(40), road: Float64Array(16)}); layouts as packed by xnodes/sensors/camera-native.ts.
class CameraRendererWrap : public Napi::ObjectWrap<CameraRendererWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CameraRenderer", {InstanceMethod("render", &CameraRendererWrap::Render)});
  }

  explicit CameraRendererWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CameraRendererWrap>(info) {
    Napi::Env env = info.Env();
    const char* usage = "new CameraRenderer({width, height, fx, fy, cx, cy, cameraHeight, maxObjects, noise: Int8Array, look: Float64Array(40), road: Float64Array(16)})";
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    auto num = [&](const char* k) { return o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : -1.0; };
    auto f64 = [&](const char* k, size_t n) -> const double* {
      Napi::Value v = o.Get(k);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return nullptr;
      auto a = v.As<Napi::Float64Array>();
      return a.ElementLength() == n ? a.Data() : nullptr;
    };
    w_ = int(num("width"));
    h_ = int(num("height"));
    maxObjects_ = int(num("maxObjects"));
    const double* look = f64("look", 40);
    const double* road = f64("road", 16);
    Napi::Value noise = o.Get("noise");
    const bool noiseOk = noise.IsTypedArray() && noise.As<Napi::TypedArray>().TypedArrayType() == napi_int8_array;
    const size_t noiseSize = noiseOk ? noise.As<Napi::Int8Array>().ElementLength() : 0;
    if (w_ < 1 || h_ < 1 || maxObjects_ < 0 || maxObjects_ > 65534 || !look || !road || noiseSize < 4 || (noiseSize & (noiseSize - 1)) != 0) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    xauto::CameraLook L{};
    size_t k = 0;
    for (auto& c : L.classRgb) for (double& v : c) v = look[k++];
    for (auto& c : L.groundRgb) for (double& v : c) v = look[k++];
    for (double& v : L.skyTop) v = look[k++];
    for (double& v : L.skyHorizon) v = look[k++];
    L.hazeStart = look[k++];
    L.hazeEnd = look[k++];
    for (double& v : L.faceShade) v = look[k++];
    L.outline = int(look[k++]);
    L.rim = look[k++];
    xauto::RoadLayout R{};
    k = 0;
    for (double& v : R.road) v = road[k++];
    for (double& v : R.bike) v = road[k++];
    for (auto& s : R.sidewalks) for (double& v : s) v = road[k++];
    for (double& v : R.solid) v = road[k++];
    for (double& v : R.dashed) v = road[k++];
    R.markHalf = road[k++];
    R.dashPeriod = road[k++];
    R.dashLength = road[k++];
    r_ = std::make_unique<xauto::CameraRender>(w_, h_, num("fx"), num("fy"), num("cx"), num("cy"), num("cameraHeight"),
                                               noise.As<Napi::Int8Array>().Data(), noiseSize, L, R);
  }

  Napi::Value Render(const Napi::CallbackInfo& info);

  std::unique_ptr<xauto::CameraRender> r_;
  int w_ = 0, h_ = 0, maxObjects_ = 0;
  bool busy_ = false;
};

class CameraWorker : public Napi::AsyncWorker {
 public:
  CameraWorker(Napi::Env env, CameraRendererWrap* self, std::vector<double> objects, int count, int total, double odometer, double frame)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), self_(self), objects_(std::move(objects)), count_(count),
        total_(total), odometer_(odometer), frame_(frame) {
    // Outputs are made here, on the JS thread, and filled on the pool thread: no copy back.
    image_ = Napi::Persistent(Napi::Uint8Array::New(env, size_t(self->w_) * self->h_ * 3));
    boxes_ = Napi::Persistent(Napi::Float64Array::New(env, size_t(total) * 4));
    seen_ = Napi::Persistent(Napi::Int32Array::New(env, size_t(total)));
    full_ = Napi::Persistent(Napi::Int32Array::New(env, size_t(total)));
    ref_ = Napi::Persistent(self->Value());
    image = image_.Value().Data(), boxes = boxes_.Value().Data(), seen = seen_.Value().Data(), full = full_.Value().Data();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { self_->r_->Render(objects_.data(), count_, total_, odometer_, frame_, image, boxes, seen, full); }
  void OnOK() override {
    self_->busy_ = false;
    Napi::Object out = Napi::Object::New(Env());
    out.Set("image", image_.Value());
    out.Set("boxes", boxes_.Value());
    out.Set("seen", seen_.Value());
    out.Set("full", full_.Value());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override {
    self_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  CameraRendererWrap* self_;
  std::vector<double> objects_;
  int count_, total_;
  double odometer_, frame_;
  Napi::Reference<Napi::Uint8Array> image_;
  Napi::Reference<Napi::Float64Array> boxes_;
  Napi::Reference<Napi::Int32Array> seen_, full_;
  Napi::Reference<Napi::Object> ref_;
  uint8_t* image;
  double* boxes;
  int32_t *seen, *full;
};

// render(objects: Float64Array (29 per object, painter's order), total, odometer, frame)
//   -> Promise<{image: Uint8Array, boxes: Float64Array, seen: Int32Array, full: Int32Array}>
Napi::Value CameraRendererWrap::Render(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "render(objects: Float64Array, total, odometer, frame)";
  if (info.Length() < 4 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || !info[1].IsNumber() ||
      !info[2].IsNumber() || !info[3].IsNumber()) {
    return Napi::TypeError::New(env, usage).ThrowAsJavaScriptException(), env.Undefined();
  }
  auto objs = info[0].As<Napi::Float64Array>();
  const int total = int(Num(info, 1));
  if (objs.ElementLength() % xauto::kObjectStride != 0 || total < 0 || total > maxObjects_) {
    return Napi::RangeError::New(env, "render: objects must hold 29 numbers per object, total <= maxObjects").ThrowAsJavaScriptException(), env.Undefined();
  }
  const int count = int(objs.ElementLength() / xauto::kObjectStride);
  for (int i = 0; i < count; i++) {
    const double index = objs[size_t(i) * xauto::kObjectStride], cls = objs[size_t(i) * xauto::kObjectStride + 1];
    if (!(index >= 0 && index < total) || !(cls >= 0 && cls <= 2)) {
      return Napi::RangeError::New(env, "render: object index must be < total and class 0..2").ThrowAsJavaScriptException(), env.Undefined();
    }
  }
  if (busy_) return Napi::Error::New(env, "render: the previous frame is still rendering").ThrowAsJavaScriptException(), env.Undefined();
  busy_ = true;
  std::vector<double> copy(objs.Data(), objs.Data() + objs.ElementLength());
  auto* w = new CameraWorker(env, this, std::move(copy), count, total, Num(info, 2), Num(info, 3));
  auto p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitDecode(env, exports);
  exports.Set("CameraRenderer", CameraRendererWrap::Define(env));
  exports.Set("voxelGrid", Napi::Function::New(env, VoxelGrid));
  exports.Set("removeGround", Napi::Function::New(env, RemoveGround));
  exports.Set("euclideanClusters", Napi::Function::New(env, EuclideanClusters));
  return exports;
}

}  // namespace

NODE_API_MODULE(xauto_perception, Init)
