// A precise one-shot timer for the JS thread: a timerfd (the kernel's high-resolution timer)
// watched by the event loop. Node's timers fire on whole milliseconds of a clock the loop
// caches, so a tick that must be on time to the microsecond (the reference system's Behavior
// Planner, whose period is a figure of its own) used to poll one loop turn at a time for the
// last 1.5 ms: an allocation per turn, whose scavenges then fell right before the ticks they
// were meant to keep on time. Here the thread sleeps until the instant and nothing is allocated.
// The handle holds the loop open only while armed, as an active setTimeout does.
#include <napi.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cmath>
#include <cstdint>

namespace {

// The part the loop owns: it outlives the JS object until uv_close has run.
struct Watch {
  uv_poll_t poll;
  int fd = -1;
  bool armed = false;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context = nullptr;
};

void Closed(uv_handle_t* h) {
  auto* w = static_cast<Watch*>(h->data);
  if (w->fd >= 0) close(w->fd);
  delete w;
}

class PreciseTimer : public Napi::ObjectWrap<PreciseTimer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PreciseTimer", {
      InstanceMethod("arm", &PreciseTimer::Arm),
      InstanceMethod("disarm", &PreciseTimer::Disarm),
      InstanceMethod("close", &PreciseTimer::Close),
    });
  }

  PreciseTimer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PreciseTimer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "PreciseTimer(callback): expected a function").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
      Napi::Error::New(env, "PreciseTimer: no event loop").ThrowAsJavaScriptException();
      return;
    }
    const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
      Napi::Error::New(env, "PreciseTimer: timerfd_create failed").ThrowAsJavaScriptException();
      return;
    }
    // The thread's sleeps end when asked, not up to 50 us later (the default timer slack).
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    w_ = new Watch();
    w_->fd = fd;
    w_->callback = Napi::Persistent(info[0].As<Napi::Function>());
    w_->context = new Napi::AsyncContext(env, "xauto:preciseTimer");
    w_->poll.data = w_;
    uv_poll_init(loop, &w_->poll, fd);
    uv_poll_start(&w_->poll, UV_READABLE, Fired);
    uv_unref(reinterpret_cast<uv_handle_t*>(&w_->poll));
  }

  ~PreciseTimer() override { Release(); }

 private:
  static void Fired(uv_poll_t* p, int, int) {
    auto* w = static_cast<Watch*>(p->data);
    uint64_t expirations = 0;
    if (read(w->fd, &expirations, sizeof expirations) != sizeof expirations) return;  // spurious: not due yet
    if (!w->armed) return;  // disarmed after the kernel had already fired it
    w->armed = false;
    uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
    Napi::Env env = w->callback.Env();
    Napi::HandleScope scope(env);
    // As a timer's callback: microtasks run after it; a throw reaches 'uncaughtException'.
    w->callback.MakeCallback(env.Global(), {}, *w->context);
  }

  // arm(delayMs): fire once, delayMs from now (at once when <= 0); re-arming moves the instant.
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!w_) {
      Napi::Error::New(env, "PreciseTimer.arm: the timer is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsNumber() || !std::isfinite(info[0].As<Napi::Number>().DoubleValue())) {
      Napi::TypeError::New(env, "PreciseTimer.arm(delayMs): expected a finite number of milliseconds").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const double ms = info[0].As<Napi::Number>().DoubleValue();
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    // A zero it_value would disarm: the earliest instant is 1 ns from now.
    const int64_t delay = ms > 0 ? int64_t(ms * 1e6) : 1;
    const int64_t at = int64_t(now.tv_sec) * 1000000000LL + now.tv_nsec + delay;
    itimerspec spec{};
    spec.it_value.tv_sec = at / 1000000000LL;
    spec.it_value.tv_nsec = at % 1000000000LL;
    if (timerfd_settime(w_->fd, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
      Napi::Error::New(env, "PreciseTimer.arm: timerfd_settime failed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!w_->armed) uv_ref(reinterpret_cast<uv_handle_t*>(&w_->poll));
    w_->armed = true;
    return env.Undefined();
  }

  Napi::Value Disarm(const Napi::CallbackInfo& info) {
    if (w_ && w_->armed) {
      itimerspec off{};
      timerfd_settime(w_->fd, 0, &off, nullptr);
      w_->armed = false;
      uv_unref(reinterpret_cast<uv_handle_t*>(&w_->poll));
    }
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void Release() {
    if (!w_) return;
    uv_poll_stop(&w_->poll);
    w_->callback.Reset();
    delete w_->context;
    w_->context = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&w_->poll), Closed);
    w_ = nullptr;
  }

  Watch* w_ = nullptr;
};

}  // namespace

void RegisterTimer(Napi::Env env, Napi::Object exports) {
  exports.Set("PreciseTimer", PreciseTimer::Define(env));
}
