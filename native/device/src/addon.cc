// N-API face of the device: memory, kernel descriptors, streams, events, launches and
// statistics. Completions come back on the JS thread through one thread-safe function,
// batched; it only keeps the event loop alive while work is in flight. (Over 500 lines: one
// ObjectWrap class whose methods are the device's whole JS API, each a short argument check
// and call; the checkpoint methods live in addon_checkpoint.cc.)
#include <napi.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>

#include "addon_checkpoint.h"
#include "clock.h"
#include "kernel.h"
#include "memory.h"
#include "scheduler.h"
#include "validate.h"

namespace xdev {
namespace {

constexpr int kInfoHead = 7;  // idempotent, reason, write_param, read_param, grid, nr, nw
constexpr int kInfoSlots = kInfoHead + 4 * 2 * kMaxParams;

// Shared between the wrapper object, the device threads and the thread-safe function; it is
// deleted by whichever lets go last (the wrapper, or the TSFN finalizer).
struct Core {
  Backend& backend = default_backend();
  MemoryTable mem{backend};
  Validator validator;
  std::unique_ptr<Scheduler> sched;
  Napi::ThreadSafeFunction tsfn;
  std::atomic<bool> tsfn_live{false};
  int64_t inflight = 0;  // JS thread only
  bool closed = false;
  bool hook_added = false;
  napi_env env = nullptr;
};

void drain_to_js(Napi::Env env, Napi::Function fn, Core* core) {
  std::vector<Completion> got;
  core->sched->drain(&got);
  if (got.empty()) return;
  core->inflight -= int64_t(got.size());
  if (core->inflight <= 0 && !core->closed) {
    core->inflight = 0;
    core->tsfn.Unref(env);
  }
  auto arr = Napi::Float64Array::New(env, got.size() * kCompletionFields);
  std::memcpy(arr.Data(), got.data(), got.size() * sizeof(Completion));
  fn.Call({arr});
}

void on_env_teardown(void* arg) {
  // The process is exiting without close(): stop and join the device threads. The TSFN is
  // torn down by Node itself at this point, so it is not touched.
  auto* core = static_cast<Core*>(arg);
  core->tsfn_live.store(false);
  core->hook_added = false;
  if (core->sched) core->sched->shutdown();
}

class DeviceWrap : public Napi::ObjectWrap<DeviceWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeDevice",
                       {
                           InstanceMethod("alloc", &DeviceWrap::Alloc),
                           InstanceMethod("view", &DeviceWrap::View),
                           InstanceMethod("free", &DeviceWrap::Free),
                           InstanceMethod("bufferBytes", &DeviceWrap::BufferBytes),
                           InstanceMethod("write", &DeviceWrap::Write),
                           InstanceMethod("read", &DeviceWrap::Read),
                           InstanceMethod("createStream", &DeviceWrap::CreateStream),
                           InstanceMethod("launch", &DeviceWrap::Launch),
                           InstanceMethod("validate", &DeviceWrap::Validate),
                           InstanceMethod("runBlocks", &DeviceWrap::RunBlocks),
                           InstanceMethod("runReference", &DeviceWrap::RunReference),
                           InstanceMethod("createEvent", &DeviceWrap::CreateEvent),
                           InstanceMethod("record", &DeviceWrap::Record),
                           InstanceMethod("waitEvent", &DeviceWrap::WaitEvent),
                           InstanceMethod("notifyEvent", &DeviceWrap::NotifyEvent),
                           InstanceMethod("eventReached", &DeviceWrap::EventReached),
                           InstanceMethod("stats", &DeviceWrap::Stats),
                           InstanceMethod("resetStats", &DeviceWrap::ResetStats),
                           InstanceMethod("close", &DeviceWrap::Close),
                       });
  }

  DeviceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "NativeDevice(units, onComplete, preempt?): expected a number and a function").ThrowAsJavaScriptException();
      return;
    }
    double units = info[0].As<Napi::Number>().DoubleValue();
    if (!(units >= 1 && units <= 64 && double(int(units)) == units)) {
      Napi::RangeError::New(env, "NativeDevice: units must be an integer in 1..64").ThrowAsJavaScriptException();
      return;
    }
    core_ = std::make_shared<Core>();
    core_->env = env;
    auto* ctx = new std::shared_ptr<Core>(core_);
    core_->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "xauto-device", 0, 1, ctx,
                                                [](Napi::Env, std::shared_ptr<Core>* c) { delete c; });
    core_->tsfn.Unref(env);
    core_->tsfn_live.store(true);
    Core* raw = core_.get();
    const bool preempt = info.Length() < 3 || !info[2].IsBoolean() || info[2].As<Napi::Boolean>().Value();
    core_->sched = std::make_unique<Scheduler>(core_->backend, int(units), preempt, [raw] {
      if (!raw->tsfn_live.load()) return;
      raw->tsfn.NonBlockingCall([raw](Napi::Env env, Napi::Function fn) { drain_to_js(env, fn, raw); });
    });
    napi_add_env_cleanup_hook(env, on_env_teardown, raw);
    core_->hook_added = true;
  }

  ~DeviceWrap() override {
    if (core_ && !core_->closed) shutdown(false);
  }

  // How checkpoint/restore (addon_checkpoint.cc) reaches a device's memory and scheduler.
  static bool parts(const Napi::Value& v, DeviceParts* out) {
    if (!v.IsObject()) return false;
    Napi::Env env = v.Env();
    DeviceWrap* w = Unwrap(v.As<Napi::Object>());
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
    if (!w || !w->core_) return false;
    *out = DeviceParts{w->core_, &w->core_->mem, w->core_->sched.get(), &w->core_->closed};
    return true;
  }

 private:
  std::shared_ptr<Core> core_;

  void shutdown(bool deliver) {
    Core* c = core_.get();
    c->closed = true;
    if (c->hook_added) {
      napi_remove_env_cleanup_hook(c->env, on_env_teardown, c);
      c->hook_added = false;
    }
    c->sched->shutdown();
    const bool live = c->tsfn_live.exchange(false);
    if (deliver && live) {
      // Hand back what finished, and the failures of what never ran, before letting go.
      Napi::Env env = c->env;
      std::vector<Completion> got;
      c->sched->drain(&got);
      if (!got.empty()) {
        auto arr = Napi::Float64Array::New(env, got.size() * kCompletionFields);
        std::memcpy(arr.Data(), got.data(), got.size() * sizeof(Completion));
        pending_ = Napi::Persistent(arr);
      }
    }
    if (live) c->tsfn.Release();
    c->mem.clear();
  }

  bool check_open(const Napi::Env& env) {
    if (!core_ || core_->closed) {
      Napi::Error::New(env, "device is closed").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  static bool nums(const Napi::CallbackInfo& info, size_t n, const char* usage) {
    bool ok = info.Length() >= n;
    for (size_t i = 0; ok && i < n; ++i) ok = info[i].IsNumber();
    if (!ok) Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return ok;
  }
  static double num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
  void fail(const Napi::Env& env, const std::string& msg) { Napi::Error::New(env, msg).ThrowAsJavaScriptException(); }

  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 1, "alloc(bytes)")) return env.Undefined();
    double h;
    std::string err = core_->mem.alloc(num(info, 0), &h);
    if (!err.empty()) return fail(env, err), env.Undefined();
    return Napi::Number::New(env, h);
  }

  Napi::Value View(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 3, "view(handle, offset, bytes)")) return env.Undefined();
    double h;
    std::string err = core_->mem.view(num(info, 0), num(info, 1), num(info, 2), &h);
    if (!err.empty()) return fail(env, err), env.Undefined();
    return Napi::Number::New(env, h);
  }

  Napi::Value Free(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 1, "free(handle)")) return env.Undefined();
    std::string err = core_->mem.release(num(info, 0));
    if (!err.empty()) fail(env, "free: " + err);
    return env.Undefined();
  }

  Napi::Value BufferBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 1, "bufferBytes(handle)")) return env.Undefined();
    Resolved r;
    std::string err = core_->mem.resolve(num(info, 0), &r);
    if (!err.empty()) return fail(env, err), env.Undefined();
    return Napi::Number::New(env, double(r.bytes));
  }

  // Resolves (handle, offset, typed array) to a host span and a device span of equal size.
  bool host_span(const Napi::CallbackInfo& info, const char* op, uint8_t** dev, uint8_t** host, size_t* n) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
      Napi::TypeError::New(env, std::string(op) + "(handle, offset, typedArray): expected two numbers and a typed array")
          .ThrowAsJavaScriptException();
      return false;
    }
    Resolved r;
    std::string err = core_->mem.resolve(num(info, 0), &r);
    if (!err.empty()) return fail(env, std::string(op) + ": " + err), false;
    auto ta = info[2].As<Napi::TypedArray>();
    double off = num(info, 1);
    size_t bytes = ta.ByteLength();
    if (!(off >= 0 && double(size_t(off)) == off && off + double(bytes) <= double(r.bytes))) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "%s: bytes [%.17g, %.17g) are outside the buffer's %zu bytes", op, off, off + double(bytes), r.bytes);
      fail(env, msg);
      return false;
    }
    if (core_->mem.host_hook) core_->mem.host_hook->before_host_access(r, size_t(off), bytes, op[0] == 'w');
    *dev = r.root->data + r.base + size_t(off);
    *host = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    *n = bytes;
    return true;
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t *dev, *host;
    size_t n;
    if (check_open(env) && host_span(info, "write", &dev, &host, &n)) core_->backend.to_device(dev, host, n);
    return env.Undefined();
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t *dev, *host;
    size_t n;
    if (check_open(env) && host_span(info, "read", &dev, &host, &n)) core_->backend.to_host(host, dev, n);
    return env.Undefined();
  }

  Napi::Value CreateStream(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 2, "createStream(priority, policy)")) return env.Undefined();
    double p = num(info, 0), pol = num(info, 1);
    if (!(p >= -1e6 && p <= 1e6 && double(int(p)) == p)) return fail(env, "createStream: priority must be an integer"), env.Undefined();
    if (pol != 0 && pol != 1) return fail(env, "createStream: policy must be 0 (wait) or 1 (save)"), env.Undefined();
    return Napi::Number::New(env, core_->sched->create_stream(int(p), pol == 1 ? Policy::kSave : Policy::kWait));
  }

  // Parses (kernel, Float64Array args) and prepares the launch; fills `info` if given.
  bool prepare(const Napi::CallbackInfo& info, size_t at, Prepared* p, const char* usage) {
    Napi::Env env = info.Env();
    if (info.Length() < at + 2 || !info[at].IsNumber() || !info[at + 1].IsTypedArray() ||
        info[at + 1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return false;
    }
    auto args = info[at + 1].As<Napi::Float64Array>();
    double k = num(info, at);
    int kid = (k >= 0 && k < 1e6 && double(int(k)) == k) ? int(k) : -1;
    std::string err = core_->validator.prepare(core_->mem, kid, args.Data(), args.ElementLength(), p);
    if (!err.empty()) return fail(env, err), false;
    return true;
  }

  static void fill_info(const Napi::Value& v, const Prepared& p) {
    if (!v.IsTypedArray()) return;
    auto a = v.As<Napi::Float64Array>();
    if (a.TypedArrayType() != napi_float64_array || a.ElementLength() < size_t(kInfoSlots)) return;
    double* o = a.Data();
    const Decision& d = p.d();
    o[0] = d.idempotent ? 1 : 0;
    o[1] = d.reason;
    o[2] = d.write_param;
    o[3] = d.read_param;
    o[4] = p.grid;
    o[5] = d.sets.nr;
    o[6] = d.sets.nw;
    double* q = o + kInfoHead;
    auto put = [&](const Range& r) {
      *q++ = r.buffer;
      *q++ = double(r.begin);
      *q++ = double(r.end - r.begin);
      *q++ = r.param;
    };
    for (int i = 0; i < d.sets.nr; ++i) put(d.sets.reads[i]);
    for (int i = 0; i < d.sets.nw; ++i) put(d.sets.writes[i]);
  }

  Napi::Value Launch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    const char* usage = "launch(stream, kernel, args: Float64Array, info?: Float64Array)";
    if (info.Length() < 1 || !info[0].IsNumber()) return Napi::TypeError::New(env, usage).ThrowAsJavaScriptException(), env.Undefined();
    int s = int(num(info, 0));
    if (double(s) != num(info, 0) || !core_->sched->has_stream(s)) return fail(env, "launch: unknown stream"), env.Undefined();
    Prepared p;
    if (!prepare(info, 1, &p, usage)) return env.Undefined();
    if (info.Length() > 3) fill_info(info[3], p);
    if (core_->inflight++ == 0) core_->tsfn.Ref(env);
    uint64_t id = core_->sched->enqueue(s, std::move(p));
    return Napi::Number::New(env, double(id));
  }

  Napi::Value Validate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    Prepared p;
    if (!prepare(info, 0, &p, "validate(kernel, args: Float64Array, info: Float64Array)")) return env.Undefined();
    if (info.Length() > 2) fill_info(info[2], p);
    return Napi::Boolean::New(env, p.d().idempotent);
  }

  // Runs blocks [from, to) of an instance synchronously on the calling thread: for tests and
  // the brute-force idempotency check, which need a run stopped after exactly k blocks.
  Napi::Value RunBlocks(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    Prepared p;
    const char* usage = "runBlocks(kernel, args: Float64Array, from, to)";
    if (!prepare(info, 0, &p, usage)) return env.Undefined();
    if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsNumber()) return Napi::TypeError::New(env, usage).ThrowAsJavaScriptException(), env.Undefined();
    double from = num(info, 2), to = num(info, 3);
    if (!(from >= 0 && to >= from && to <= double(p.grid))) return fail(env, "runBlocks: expected 0 <= from <= to <= grid (" + std::to_string(p.grid) + ")"), env.Undefined();
    for (uint32_t b = uint32_t(from); b < uint32_t(to); ++b) core_->backend.run_block(*p.args.k, p.args, b);
    return Napi::Number::New(env, p.grid);
  }

  Napi::Value RunReference(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    Prepared p;
    if (!prepare(info, 0, &p, "runReference(kernel, args: Float64Array)")) return env.Undefined();
    core_->backend.run_reference(*p.args.k, p.args);
    return env.Undefined();
  }

  Napi::Value CreateEvent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    return Napi::Number::New(env, core_->sched->create_event());
  }

  bool stream_event(const Napi::CallbackInfo& info, const char* usage, int* s, uint32_t* e) {
    if (!nums(info, 2, usage)) return false;
    *s = int(num(info, 0));
    *e = uint32_t(num(info, 1));
    if (!core_->sched->has_stream(*s) || !core_->sched->has_event(*e)) return fail(info.Env(), std::string(usage) + ": unknown stream or event"), false;
    return true;
  }

  Napi::Value Record(const Napi::CallbackInfo& info) {
    int s;
    uint32_t e;
    if (check_open(info.Env()) && stream_event(info, "record(stream, event)", &s, &e)) core_->sched->record(s, e);
    return info.Env().Undefined();
  }

  Napi::Value WaitEvent(const Napi::CallbackInfo& info) {
    int s;
    uint32_t e;
    if (check_open(info.Env()) && stream_event(info, "waitEvent(stream, event)", &s, &e)) core_->sched->wait(s, e);
    return info.Env().Undefined();
  }

  Napi::Value NotifyEvent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 2, "notifyEvent(event, token)")) return env.Undefined();
    uint32_t e = uint32_t(num(info, 0));
    if (!core_->sched->has_event(e)) return fail(env, "notifyEvent: unknown event"), env.Undefined();
    if (core_->inflight++ == 0) core_->tsfn.Ref(env);
    core_->sched->notify_event(e, num(info, 1));
    return env.Undefined();
  }

  Napi::Value EventReached(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env) || !nums(info, 1, "eventReached(event)")) return env.Undefined();
    uint32_t e = uint32_t(num(info, 0));
    if (!core_->sched->has_event(e)) return fail(env, "eventReached: unknown event"), env.Undefined();
    return Napi::Boolean::New(env, core_->sched->event_reached(e));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    SchedulerStats s = core_->sched->stats();
    const ValidateStats& v = core_->validator.stats;
    Napi::Object o = Napi::Object::New(env);
    auto set = [&](const char* k, double x) { o.Set(k, Napi::Number::New(env, x)); };
    set("units", core_->sched->units());
    set("launches", double(s.launches));
    set("completed", double(s.completed));
    set("preemptions", double(s.preemptions));
    set("relaunches", double(s.relaunches));
    set("killRequests", double(s.kill_requests));
    set("savedBytes", double(s.saved_bytes));
    set("restoredBytes", double(s.restored_bytes));
    set("blocksRun", double(s.blocks_run));
    set("blocksDiscarded", double(s.blocks_discarded));
    set("waitedUnpreemptible", double(s.waited_unpreemptible));
    set("killsAvoidedCap", double(s.kills_avoided_cap));
    set("killsAvoidedShort", double(s.kills_avoided_short));
    set("validations", double(v.count));
    set("validateCacheHits", double(v.cache_hits));
    set("validateCacheSize", double(core_->validator.cache_size()));
    set("validateP50Us", v.percentile_ns(0.5) / 1000.0);
    set("validateP99Us", v.percentile_ns(0.99) / 1000.0);
    set("validateMaxUs", double(v.max_ns) / 1000.0);
    set("validateMeanUs", v.count ? v.sum_ns / double(v.count) / 1000.0 : 0);
    set("liveBuffers", double(core_->mem.live()));
    set("liveBytes", double(core_->mem.live_bytes()));
    return o;
  }

  Napi::Value ResetStats(const Napi::CallbackInfo& info) {
    if (check_open(info.Env())) {
      core_->sched->reset_stats();
      core_->validator.stats.reset();
    }
    return info.Env().Undefined();
  }

  // Stops the device: running work stops at its next block boundary, queued work fails.
  // Returns the completions not yet delivered (a Float64Array), so the caller settles them.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_ || core_->closed) return env.Undefined();
    shutdown(true);
    if (pending_.IsEmpty()) return env.Undefined();
    Napi::Value v = pending_.Value();
    pending_.Reset();
    return v;
  }

  Napi::Reference<Napi::Float64Array> pending_;
};

Napi::Value KernelList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& lib = kernel_library();
  Napi::Array out = Napi::Array::New(env, lib.size());
  auto term = [&](const KernelDesc& k, const Term& t) -> Napi::Value {
    if (t.param < 0) return Napi::Number::New(env, double(t.value));
    return Napi::String::New(env, k.params[size_t(t.param)].name);
  };
  for (size_t i = 0; i < lib.size(); ++i) {
    const KernelDesc& k = lib[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Napi::Number::New(env, double(i)));
    o.Set("name", k.name);
    o.Set("summary", k.summary);
    Napi::Array fx = Napi::Array::New(env);
    if (k.side_effects & kAtomics) fx.Set(fx.Length(), "atomics");
    if (k.side_effects & kRngState) fx.Set(fx.Length(), "rng-state");
    if (k.side_effects & kHostVisible) fx.Set(fx.Length(), "host-visible");
    o.Set("sideEffects", fx);
    Napi::Array ps = Napi::Array::New(env, k.params.size());
    for (size_t j = 0; j < k.params.size(); ++j) {
      const ParamSpec& p = k.params[j];
      Napi::Object q = Napi::Object::New(env);
      q.Set("name", p.name);
      if (p.is_buffer) {
        q.Set("kind", "buffer");
        q.Set("access", p.access == kIn ? "in" : p.access == kOut ? "out" : "inout");
        q.Set("elemType", p.type);
        q.Set("elemBytes", Napi::Number::New(env, p.elem));
        Napi::Array c = Napi::Array::New(env, p.count.size());
        for (size_t t = 0; t < p.count.size(); ++t) c.Set(t, term(k, p.count[t]));
        q.Set("count", c);
        q.Set("stride", term(k, p.stride));
        if (p.read_if_nonzero >= 0) q.Set("readIfNonzero", k.params[size_t(p.read_if_nonzero)].name);
        if (p.write_if_nonzero >= 0) q.Set("writeIfNonzero", k.params[size_t(p.write_if_nonzero)].name);
        if (p.active_if_nonzero >= 0) q.Set("activeIfNonzero", k.params[size_t(p.active_if_nonzero)].name);
        if (p.select_of >= 0) q.Set("selectOf", k.params[size_t(p.select_of)].name);
      } else {
        q.Set("kind", "scalar");
        q.Set("type", p.is_int ? "int" : "float");
        if (p.is_int) q.Set("min", Napi::Number::New(env, double(p.min)));
      }
      ps.Set(j, q);
    }
    o.Set("params", ps);
    out.Set(i, o);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeDevice", DeviceWrap::Define(env));
  exports.Set("kernels", Napi::Function::New(env, KernelList));
  exports.Set("infoSlots", Napi::Number::New(env, kInfoSlots));
  exports.Set("maxKills", Napi::Number::New(env, kMaxKills));
  exports.Set("killWaitBoundUs", Napi::Number::New(env, double(kWaitBoundNs) / 1000.0));
  exports.Set("completionFields", Napi::Number::New(env, kCompletionFields));
  exports.Set("backend", default_backend().name());
  exports.Set("backendNote", backend_note());
  exports.Set("cudaBuilt", Napi::Boolean::New(env, cuda_built()));
  register_checkpoint(env, exports, &DeviceWrap::parts);
  return exports;
}

}  // namespace
}  // namespace xdev

static Napi::Object InitDevice(Napi::Env env, Napi::Object exports) { return xdev::Init(env, exports); }

NODE_API_MODULE(xauto_device, InitDevice)
