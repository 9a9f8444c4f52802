// The Autoware reference system's workload in C++: count the primes in [2, limit] by trial
// division by every smaller number (xnodes/reference/crunch.ts is the same in JS). The
// per-candidate result passes through an empty asm barrier so the compiler keeps every
// division, as the reference's escape() does. Sync, or on the libuv pool as a promise, there
// at a given nice value (the stage's thread priority, runtime/exec/core/reserve.ts).
#include <napi.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdint>

namespace {

// The same trial divisions in any unsigned width: 32-bit when the limit fits (as V8 runs the
// JS one), so the implementations cost alike; the reference's uint64_t beyond that.
template <typename U>
int64_t count_primes(U limit) {
  int64_t primes = 0;
  for (U i = 2; i <= limit; ++i) {
    bool prime = true;
    for (U n = 2; n < i; ++n) {
      if (i % n == 0) {
        prime = false;
        break;
      }
    }
    asm volatile("" : : "g"(prime) : "memory");
    if (prime) ++primes;
  }
  return primes;
}

int64_t number_cruncher(uint64_t limit) {
  if (limit <= 2) return 2;
  return limit < 0xffffffffull ? count_primes<uint32_t>(uint32_t(limit)) : count_primes<uint64_t>(limit);
}

bool ArgLimit(const Napi::CallbackInfo& info, uint64_t* limit) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "crunch(limit): expected a number").ThrowAsJavaScriptException();
    return false;
  }
  double v = info[0].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 1e9)) {
    Napi::RangeError::New(info.Env(), "crunch(limit): expected 0 <= limit <= 1e9").ThrowAsJavaScriptException();
    return false;
  }
  *limit = uint64_t(v);
  return true;
}

Napi::Value CrunchSync(const Napi::CallbackInfo& info) {
  uint64_t limit;
  if (!ArgLimit(info, &limit)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), double(number_cruncher(limit)));
}

class CrunchWorker : public Napi::AsyncWorker {
 public:
  CrunchWorker(Napi::Env env, uint64_t limit, int nice) : Napi::AsyncWorker(env), limit_(limit), nice_(nice), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    // Linux keeps nice per thread: this pool thread runs the job at the stage's value, then
    // goes back to its own (the caller only asks where it may go back: CAP_SYS_NICE).
    const id_t tid = id_t(syscall(SYS_gettid));
    const int was = nice_ != 0 ? getpriority(PRIO_PROCESS, tid) : 0;
    if (nice_ != 0) setpriority(PRIO_PROCESS, tid, nice_);
    result_ = number_cruncher(limit_);
    if (nice_ != 0) setpriority(PRIO_PROCESS, tid, was);
  }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), double(result_))); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
 private:
  uint64_t limit_;
  int nice_;
  int64_t result_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value CrunchAsync(const Napi::CallbackInfo& info) {
  uint64_t limit;
  if (!ArgLimit(info, &limit)) return info.Env().Undefined();
  int nice = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (nice < -20 || nice > 19) nice = 0;
  auto* w = new CrunchWorker(info.Env(), limit, nice);
  auto p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void RegisterCrunch(Napi::Env env, Napi::Object exports) {
  exports.Set("crunch", Napi::Function::New(env, CrunchSync));
  exports.Set("crunchAsync", Napi::Function::New(env, CrunchAsync));
}
