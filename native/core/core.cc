// xauto core addon: a monotonic clock, a CPU-burn kernel, process-lifetime guards, and the
// reference system's number cruncher (crunch.cc), and a precise timer (timer.cc).
// The burn kernel spins for a requested time so tests, examples and benchmarks get a stage
// whose cost is known and real (it occupies a core), synchronously or on the libuv pool.
// copyInto: one view's bytes into a shared buffer at an offset with the C library's memcpy (a
// typed array's set() into shared memory copies word by word with relaxed atomics: twice as slow
// for the recorder's 16 KB messages).
// The guards: a parent-death signal (a child process never outlives its launch), and a
// near-heap-limit callback that gives the heap room once so the run can stop in order and
// write its report instead of dying with "Reached heap limit".
#include <napi.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <v8.h>

#include <atomic>
#include <cstdint>
#include <cstring>

void RegisterCrunch(Napi::Env env, Napi::Object exports);  // crunch.cc
void RegisterTimer(Napi::Env env, Napi::Object exports);  // timer.cc

namespace {

inline uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Spins for `us` microseconds doing real arithmetic; returns a value that depends on the
// work so the compiler cannot drop it.
uint64_t burn(double us) {
  const uint64_t end = monotonic_ns() + uint64_t(us * 1000.0);
  uint64_t x = 88172645463325252ull, iters = 0;
  do {
    for (int i = 0; i < 256; ++i) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    ++iters;
  } while (monotonic_ns() < end);
  return x ^ iters;
}

Napi::Value NowNs(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), monotonic_ns());
}

Napi::Value NowUs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(monotonic_ns()) / 1000.0);
}

double ArgMicros(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "burn(us): expected a number of microseconds").ThrowAsJavaScriptException();
    return -1;
  }
  double us = info[0].As<Napi::Number>().DoubleValue();
  if (!(us >= 0 && us <= 60e6)) {
    Napi::RangeError::New(info.Env(), "burn(us): expected 0 <= us <= 60e6").ThrowAsJavaScriptException();
    return -1;
  }
  return us;
}

Napi::Value BurnSync(const Napi::CallbackInfo& info) {
  double us = ArgMicros(info);
  if (us < 0) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), double(burn(us) & 0xffffffffu));
}

class BurnWorker : public Napi::AsyncWorker {
 public:
  BurnWorker(Napi::Env env, double us) : Napi::AsyncWorker(env), us_(us), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { result_ = burn(us_); }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), double(result_ & 0xffffffffu))); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
 private:
  double us_;
  uint64_t result_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value BurnAsync(const Napi::CallbackInfo& info) {
  double us = ArgMicros(info);
  if (us < 0) return info.Env().Undefined();
  auto* w = new BurnWorker(info.Env(), us);
  auto p = w->Promise();
  w->Queue();
  return p;
}

// setParentDeathSignal(signo) -> parent pid: the kernel sends `signo` to this process when its
// parent dies. The caller compares the pid with the parent it expects (it may already be gone).
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setParentDeathSignal(signo): expected a signal number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int sig = info[0].As<Napi::Number>().Int32Value();
  if (sig < 0 || sig >= NSIG || prctl(PR_SET_PDEATHSIG, sig) != 0) {
    Napi::Error::New(env, "setParentDeathSignal: prctl(PR_SET_PDEATHSIG) failed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, getppid());
}

std::atomic<double> g_near_limit_bytes{0};
size_t g_heap_extra = 0;

// V8 calls this on the isolate's thread when the heap is about to reach its limit: note it
// and raise the limit once, so the watchdog's orderly stop has memory to run in.
size_t NearHeapLimit(void*, size_t current, size_t) {
  const bool first = g_near_limit_bytes.load() == 0;
  g_near_limit_bytes.store(double(current));
  return first ? current + g_heap_extra : current;
}

// watchHeapLimit(extraBytes): installs the callback on the calling isolate (main thread).
Napi::Value WatchHeapLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0) {
    Napi::TypeError::New(env, "watchHeapLimit(extraBytes): expected a non-negative number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  static bool installed = false;
  g_heap_extra = size_t(info[0].As<Napi::Number>().DoubleValue());
  if (!installed) {
    v8::Isolate* iso = v8::Isolate::GetCurrent();
    if (iso) iso->AddNearHeapLimitCallback(NearHeapLimit, nullptr);
    installed = true;
  }
  return env.Undefined();
}

// heapNearLimit() -> the heap limit (bytes) V8 was about to reach, or 0 while it was not.
Napi::Value HeapNearLimit(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), g_near_limit_bytes.load());
}

// Bytes and length of a typed array or DataView; false (and a TypeError) for anything else.
bool ViewBytes(napi_env env, napi_value v, uint8_t** data, size_t* length, const char* what) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count = 0;
    void* p = nullptr;
    if (napi_get_typedarray_info(env, v, &type, &count, &p, nullptr, nullptr) != napi_ok) return false;
    size_t element = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: element = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: element = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: element = 8; break;
      default: break;
    }
    *data = static_cast<uint8_t*>(p);
    *length = count * element;
    return true;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    void* p = nullptr;
    if (napi_get_dataview_info(env, v, length, &p, nullptr, nullptr) != napi_ok) return false;
    *data = static_cast<uint8_t*>(p);
    return true;
  }
  napi_throw_type_error(env, nullptr, what);
  return false;
}

// copyInto(target: Uint8Array, offset: number, source: ArrayBufferView): source's bytes at target[offset..].
napi_value CopyInto(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3) {
    napi_throw_type_error(env, nullptr, "copyInto(target, offset, source): three arguments expected");
    return nullptr;
  }
  uint8_t *to = nullptr, *from = nullptr;
  size_t room = 0, n = 0;
  if (!ViewBytes(env, argv[0], &to, &room, "copyInto: target is not a typed array")) return nullptr;
  if (!ViewBytes(env, argv[2], &from, &n, "copyInto: source is not a typed array or DataView")) return nullptr;
  double offset = -1;
  napi_get_value_double(env, argv[1], &offset);
  if (!(offset >= 0) || offset > double(room) || n > room - size_t(offset)) {
    napi_throw_range_error(env, nullptr, "copyInto: the source does not fit in the target at that offset");
    return nullptr;
  }
  if (n) std::memcpy(to + size_t(offset), from, n);
  return nullptr;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_value copy;
  napi_create_function(env, "copyInto", NAPI_AUTO_LENGTH, CopyInto, nullptr, &copy);
  exports.Set("copyInto", Napi::Value(env, copy));
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal));
  exports.Set("watchHeapLimit", Napi::Function::New(env, WatchHeapLimit));
  exports.Set("heapNearLimit", Napi::Function::New(env, HeapNearLimit));
  exports.Set("nowNs", Napi::Function::New(env, NowNs));
  exports.Set("nowUs", Napi::Function::New(env, NowUs));
  exports.Set("burn", Napi::Function::New(env, BurnSync));
  exports.Set("burnAsync", Napi::Function::New(env, BurnAsync));
  RegisterCrunch(env, exports);
  RegisterTimer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(xauto_core, Init)
