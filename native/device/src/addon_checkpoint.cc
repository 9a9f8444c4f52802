// NativeCheckpoint(device, chunkBytes): begin / wait / commit an epoch, restore, and the
// engine's statistics. File formats (manifest, commit record) are the JS side's concern
// (runtime/gpu/checkpoint-image.ts); this side writes and reads chunk files.
#include "addon_checkpoint.h"

#include <cmath>
#include <cstring>

#include "checkpoint.h"

namespace xdev {
namespace {

DevicePartsFn g_parts = nullptr;
constexpr int kSlotFields = 6;   // index, gen, isView, rootIndex, base, bytes
constexpr int kSavedFields = 5;  // slot, chunk, offset, len, crc
constexpr int kSourceFields = 4;  // file, offset, len, crc

Napi::Object epoch_to_js(Napi::Env env, const EpochResult& r) {
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  set("epoch", double(r.epoch));
  set("parent", double(r.parent));
  o.Set("error", r.error.empty() ? env.Null() : Napi::String::New(env, r.error));
  auto slots = Napi::Float64Array::New(env, r.slots.size() * kSlotFields);
  for (size_t i = 0; i < r.slots.size(); ++i) {
    const SlotImage& s = r.slots[i];
    double* q = slots.Data() + i * kSlotFields;
    q[0] = s.index, q[1] = s.gen, q[2] = s.is_view ? 1 : 0, q[3] = s.root_index, q[4] = double(s.base), q[5] = double(s.bytes);
  }
  o.Set("slots", slots);
  auto saved = Napi::Float64Array::New(env, r.saved.size() * kSavedFields);
  for (size_t i = 0; i < r.saved.size(); ++i) {
    const SavedChunk& s = r.saved[i];
    double* q = saved.Data() + i * kSavedFields;
    q[0] = s.slot, q[1] = s.chunk, q[2] = double(s.offset), q[3] = double(s.len), q[4] = s.crc;
  }
  o.Set("saved", saved);
  set("copyUs", r.copy_us);
  set("writeUs", r.write_us);
  set("cowChunks", double(r.cow_chunks));
  set("copierChunks", double(r.copier_chunks));
  set("maxCopies", double(r.max_copies));
  set("cowUs", r.cow_us);
  return o;
}

class WaitEpoch final : public Napi::AsyncWorker {
 public:
  WaitEpoch(Napi::Env env, std::shared_ptr<Engine> e) : Napi::AsyncWorker(env), e_(std::move(e)), d_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override { e_->wait_epoch(&r_); }
  void OnOK() override { d_.Resolve(epoch_to_js(Env(), r_)); }
  Napi::Promise promise() const { return d_.Promise(); }

 private:
  std::shared_ptr<Engine> e_;
  Napi::Promise::Deferred d_;
  EpochResult r_;
};

class WaitRestore final : public Napi::AsyncWorker {
 public:
  WaitRestore(Napi::Env env, std::shared_ptr<Engine> e) : Napi::AsyncWorker(env), e_(std::move(e)), d_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override { err_ = e_->wait_restore(); }
  void OnOK() override {
    if (err_.empty()) d_.Resolve(Env().Undefined());
    else d_.Reject(Napi::Error::New(Env(), err_).Value());
  }
  Napi::Promise promise() const { return d_.Promise(); }

 private:
  std::shared_ptr<Engine> e_;
  Napi::Promise::Deferred d_;
  std::string err_;
};

class CheckpointWrap : public Napi::ObjectWrap<CheckpointWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeCheckpoint",
                       {
                           InstanceMethod("begin", &CheckpointWrap::Begin),
                           InstanceMethod("wait", &CheckpointWrap::Wait),
                           InstanceMethod("commit", &CheckpointWrap::Commit),
                           InstanceMethod("restore", &CheckpointWrap::Restore),
                           InstanceMethod("restoreDone", &CheckpointWrap::RestoreDone),
                           InstanceMethod("stats", &CheckpointWrap::Stats),
                       });
  }

  CheckpointWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CheckpointWrap>(info) {
    Napi::Env env = info.Env();
    const char* usage = "NativeCheckpoint(device, chunkBytes): expected a NativeDevice and a power of two >= 64";
    if (info.Length() < 2 || !info[1].IsNumber() || !g_parts || !g_parts(info[0], &parts_)) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    double c = info[1].As<Napi::Number>().DoubleValue();
    if (!(c >= 64 && c <= double(1 << 30) && std::floor(c) == c && (uint64_t(c) & (uint64_t(c) - 1)) == 0)) {
      Napi::RangeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    if (parts_.mem->host_hook) {
      Napi::Error::New(env, "NativeCheckpoint: this device already has a checkpointer").ThrowAsJavaScriptException();
      return;
    }
    engine_ = std::make_shared<Engine>(*parts_.mem, *parts_.sched, size_t(c));
    parts_.mem->host_hook = engine_;
    parts_.sched->set_observer(engine_);
  }

 private:
  DeviceParts parts_;
  std::shared_ptr<Engine> engine_;

  bool open(const Napi::Env& env) {
    if (!engine_ || *parts_.closed) {
      Napi::Error::New(env, "device is closed").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  Napi::Value Begin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsBoolean() || !info[2].IsString())
      return Napi::TypeError::New(env, "begin(mode: 'concurrent'|'stop-the-world', incremental, chunkFile, copierDelayUs?)").ThrowAsJavaScriptException(), env.Undefined();
    std::string mode = info[0].As<Napi::String>();
    if (mode != "concurrent" && mode != "stop-the-world")
      return Napi::Error::New(env, "begin: mode must be 'concurrent' or 'stop-the-world'").ThrowAsJavaScriptException(), env.Undefined();
    EpochStart s;
    const uint32_t delay = info.Length() > 3 && info[3].IsNumber() ? uint32_t(info[3].As<Napi::Number>().DoubleValue()) : 0;
    std::string err = engine_->begin(mode == "concurrent" ? CkptMode::kConcurrent : CkptMode::kStopTheWorld, info[1].As<Napi::Boolean>(),
                                     info[2].As<Napi::String>(), &s, delay);
    if (!err.empty()) return Napi::Error::New(env, err).ThrowAsJavaScriptException(), env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("epoch", double(s.epoch));
    o.Set("parent", double(s.parent));
    o.Set("chunks", double(s.chunks));
    o.Set("bytes", double(s.bytes));
    o.Set("pauseUs", s.pause_us);
    return o;
  }

  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    auto* w = new WaitEpoch(env, engine_);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  Napi::Value Commit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsNumber()) return Napi::TypeError::New(env, "commit(epoch)").ThrowAsJavaScriptException(), env.Undefined();
    engine_->commit(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
    return env.Undefined();
  }

  // restore({ epoch, files, slots: Float64Array, chunks: Float64Array, onDemand, verify, loaderDelayUs })
  Napi::Value Restore(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    auto bad = [&](const char* why) { return Napi::TypeError::New(env, std::string("restore: ") + why).ThrowAsJavaScriptException(), env.Undefined(); };
    if (info.Length() < 1 || !info[0].IsObject()) return bad("expected a plan object");
    Napi::Object o = info[0].As<Napi::Object>();
    RestorePlan plan;
    if (!o.Get("epoch").IsNumber() || !o.Get("files").IsArray() || !o.Get("slots").IsTypedArray() || !o.Get("chunks").IsTypedArray())
      return bad("the plan needs epoch, files, slots and chunks");
    plan.epoch = uint64_t(o.Get("epoch").As<Napi::Number>().DoubleValue());
    Napi::Array files = o.Get("files").As<Napi::Array>();
    for (uint32_t i = 0; i < files.Length(); ++i) {
      if (!files.Get(i).IsString()) return bad("files must be strings");
      plan.files.push_back(files.Get(i).As<Napi::String>());
    }
    auto slots = o.Get("slots").As<Napi::Float64Array>();
    auto chunks = o.Get("chunks").As<Napi::Float64Array>();
    if (slots.ElementLength() % kSlotFields || chunks.ElementLength() % kSourceFields) return bad("slots or chunks have a partial record");
    const size_t C = engine_->chunk_bytes();
    size_t at = 0;
    for (size_t i = 0; i < slots.ElementLength(); i += kSlotFields) {
      const double* q = slots.Data() + i;
      SlotImage s{uint32_t(q[0]), uint32_t(q[1]), q[2] != 0, uint32_t(q[3]), size_t(q[4]), size_t(q[5])};
      plan.slots.push_back(s);
      if (s.is_view) continue;
      const size_t n = (s.bytes + C - 1) / C;
      if ((at + n) * kSourceFields > chunks.ElementLength()) return bad("the chunk table is shorter than the buffers need");
      std::vector<ChunkSource> cs(n);
      for (size_t c = 0; c < n; ++c, ++at) {
        const double* p = chunks.Data() + at * kSourceFields;
        cs[c] = ChunkSource{uint32_t(p[0]), uint64_t(p[1]), uint64_t(p[2]), uint32_t(p[3])};
      }
      plan.chunks.push_back(std::move(cs));
    }
    if (at * kSourceFields != chunks.ElementLength()) return bad("the chunk table is longer than the buffers need");
    plan.on_demand = !o.Get("onDemand").IsBoolean() || o.Get("onDemand").As<Napi::Boolean>().Value();
    plan.verify = o.Get("verify").IsBoolean() && o.Get("verify").As<Napi::Boolean>().Value();
    if (o.Get("loaderDelayUs").IsNumber()) plan.loader_delay_us = uint32_t(o.Get("loaderDelayUs").As<Napi::Number>().DoubleValue());
    double us = 0;
    std::string err = engine_->restore(std::move(plan), &us);
    if (!err.empty()) return Napi::Error::New(env, err).ThrowAsJavaScriptException(), env.Undefined();
    return Napi::Number::New(env, us);
  }

  Napi::Value RestoreDone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    auto* w = new WaitRestore(env, engine_);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) return env.Undefined();
    EngineStats s = engine_->stats();
    Napi::Object o = Napi::Object::New(env);
    auto set = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
    set("epochs", double(s.epochs));
    set("cowChunks", double(s.cow_chunks));
    set("copierChunks", double(s.copier_chunks));
    set("cowUs", s.cow_us);
    set("onDemandLoads", double(s.on_demand_loads));
    set("backgroundLoads", double(s.background_loads));
    set("loadWaits", double(s.load_waits));
    set("hostLoads", double(s.host_loads));
    set("loadedChunks", double(s.loaded_chunks));
    set("totalChunks", double(s.total_chunks));
    o.Set("restoring", Napi::Boolean::New(env, s.restoring));
    return o;
  }
};

}  // namespace

void register_checkpoint(Napi::Env env, Napi::Object exports, DevicePartsFn parts) {
  g_parts = parts;
  exports.Set("NativeCheckpoint", CheckpointWrap::Define(env));
}

}  // namespace xdev
