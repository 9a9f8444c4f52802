// decodeHeatmap / decodeYolo: the detector-output decoders of decode.h on a libuv pool thread.
// The head tensor must not be mutated until the promise settles (stages never mutate inputs).
#include <napi.h>

#include <vector>

#include "decode.h"

namespace {

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Float32Array head)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), data_(head.Data()) {
    ref_ = Napi::Persistent(head);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  // {boxes: Float32Array(4n), scores: Float32Array(n), classes: Int32Array(n)}, rounded to
  // float32 as the JS decoder's typed arrays round them.
  void OnOK() override {
    Napi::Env env = Env();
    const size_t n = out_.size();
    auto boxes = Napi::Float32Array::New(env, n * 4);
    auto scores = Napi::Float32Array::New(env, n);
    auto classes = Napi::Int32Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      const auto& b = out_[i];
      boxes[i * 4] = (float)b.x1;
      boxes[i * 4 + 1] = (float)b.y1;
      boxes[i * 4 + 2] = (float)b.x2;
      boxes[i * 4 + 3] = (float)b.y2;
      scores[i] = (float)b.score;
      classes[i] = b.cls;
    }
    auto o = Napi::Object::New(env);
    o.Set("boxes", boxes);
    o.Set("scores", scores);
    o.Set("classes", classes);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> ref_;
  const float* data_;
  std::vector<xauto::DecodedBox> out_;
};

class HeatmapWorker : public DecodeWorker {
 public:
  HeatmapWorker(Napi::Env env, Napi::Float32Array head, int C, int h, int w, double thr, int minCells, double sx, double sy)
      : DecodeWorker(env, head), C_(C), h_(h), w_(w), thr_(thr), minCells_(minCells), sx_(sx), sy_(sy) {}
  void Execute() override {
    // Scratch per call: the pool thread that runs it is not fixed.
    std::vector<int32_t> labels, stack;
    xauto::DecodeHeatmap(data_, C_, h_, w_, thr_, minCells_, sx_, sy_, labels, stack, out_);
  }

 private:
  int C_, h_, w_;
  double thr_;
  int minCells_;
  double sx_, sy_;
};

class YoloWorker : public DecodeWorker {
 public:
  YoloWorker(Napi::Env env, Napi::Float32Array head, int rows, int N, double thr, std::vector<int32_t> map, double sx, double sy)
      : DecodeWorker(env, head), rows_(rows), N_(N), thr_(thr), map_(std::move(map)), sx_(sx), sy_(sy) {}
  void Execute() override { xauto::DecodeYolo(data_, rows_, N_, thr_, map_, sx_, sy_, out_); }

 private:
  int rows_, N_;
  double thr_;
  std::vector<int32_t> map_;
  double sx_, sy_;
};

bool Check(const Napi::CallbackInfo& info, size_t numbers, const char* usage) {
  Napi::Env env = info.Env();
  bool ok = info.Length() >= 1 + numbers && info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  for (size_t i = 1; ok && i <= numbers; i++) ok = info[i].IsNumber();
  if (!ok) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

// decodeHeatmap(head, C, h, w, threshold, minCells, strideX, strideY) -> Promise<{boxes, scores, classes}>
Napi::Value DecodeHeatmap(const Napi::CallbackInfo& info) {
  const char* usage = "expected (head: Float32Array, C, h, w, threshold, minCells, strideX, strideY)";
  if (!Check(info, 7, usage)) return info.Env().Undefined();
  auto head = info[0].As<Napi::Float32Array>();
  const int C = Int(info, 1), h = Int(info, 2), w = Int(info, 3);
  if (C < 0 || h <= 0 || w <= 0 || (size_t)C * h * w != head.ElementLength()) {
    Napi::RangeError::New(info.Env(), "head: length must be C * h * w").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto* wk = new HeatmapWorker(info.Env(), head, C, h, w, Num(info, 4), Int(info, 5), Num(info, 6), Num(info, 7));
  auto p = wk->Promise();
  wk->Queue();
  return p;
}

// decodeYolo(head, rows, N, scoreThreshold, classMap: Int32Array, sx, sy) -> Promise<{boxes, scores, classes}>
Napi::Value DecodeYolo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "expected (head: Float32Array, rows, N, scoreThreshold, classMap: Int32Array, sx, sy)";
  if (info.Length() < 7 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !info[1].IsNumber() ||
      !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      !info[5].IsNumber() || !info[6].IsNumber()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto head = info[0].As<Napi::Float32Array>();
  const int rows = Int(info, 1), N = Int(info, 2);
  if (rows < 5 || N < 0 || (size_t)rows * N != head.ElementLength()) {
    Napi::RangeError::New(env, "head: length must be rows * N, rows >= 5").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto m = info[4].As<Napi::Int32Array>();
  std::vector<int32_t> map(m.Data(), m.Data() + m.ElementLength());
  auto* wk = new YoloWorker(env, head, rows, N, Num(info, 3), std::move(map), Num(info, 5), Num(info, 6));
  auto p = wk->Promise();
  wk->Queue();
  return p;
}

}  // namespace

void InitDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeHeatmap", Napi::Function::New(env, DecodeHeatmap));
  exports.Set("decodeYolo", Napi::Function::New(env, DecodeYolo));
}
