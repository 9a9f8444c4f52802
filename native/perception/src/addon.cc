// xauto_perception: the lidar kernels as Promise-returning functions whose work runs on libuv
// pool threads (Napi::AsyncWorker). Inputs are Float32Arrays of [x, y, z, intensity]; the
// caller must not mutate them until the promise settles (stages never mutate inputs). Results
// come back as new Float32Arrays.
#include <napi.h>

#include <cstring>
#include <vector>

#include "lidar.h"

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("voxelGrid", Napi::Function::New(env, VoxelGrid));
  exports.Set("removeGround", Napi::Function::New(env, RemoveGround));
  exports.Set("euclideanClusters", Napi::Function::New(env, EuclideanClusters));
  return exports;
}

}  // namespace

NODE_API_MODULE(xauto_perception, Init)
