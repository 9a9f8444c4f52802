// xauto core addon: a monotonic clock, a CPU-burn kernel, process-lifetime guards, and the
// reference system's number cruncher (crunch.cc).
// The burn kernel spins for a requested time so tests, examples and benchmarks get a stage
// whose cost is known and real (it occupies a core), synchronously or on the libuv pool.
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

void RegisterCrunch(Napi::Env env, Napi::Object exports);  // crunch.cc

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal));
  exports.Set("watchHeapLimit", Napi::Function::New(env, WatchHeapLimit));
  exports.Set("heapNearLimit", Napi::Function::New(env, HeapNearLimit));
  exports.Set("nowNs", Napi::Function::New(env, NowNs));
  exports.Set("nowUs", Napi::Function::New(env, NowUs));
  exports.Set("burn", Napi::Function::New(env, BurnSync));
  exports.Set("burnAsync", Napi::Function::New(env, BurnAsync));
  RegisterCrunch(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(xauto_core, Init)
