// Busy polling of the JS thread's event loop (per environment). For a window after each write,
// the loop does not sleep in epoll but polls with a zero timeout, so a reply that Cyclone's
// receive thread signals is taken without waking a sleeping thread. A request/reply round trip
// otherwise pays three thread wake-ups (the peer's receive thread, ours, then the JS thread),
// where a C application replying from its listener pays two; on a VM, waking an idle vCPU is
// the larger part of a loopback round trip. The price is the JS thread's core at 100 % during
// each window, as with Linux's SO_BUSY_POLL. Adaptive (the default a transport sets): a write
// opens the window only when samples arrived within the window after at least half of the
// last 8 writes, so a thread that publishes without awaiting replies never polls; whether one
// did is seen whether the loop polled or slept; the window closes when the first sample after
// the write is taken, so polling costs no more than the wait for the reply. The idle handle is
// unref'd, so it never keeps a process alive.
#include "endpoint.h"

namespace xauto_dds {

namespace {

// Runs once per loop turn while active; the loop polls without blocking meanwhile.
void OnSpin(uv_idle_t *h) {
  EnvState *es = static_cast<EnvState *>(h->data);
  es->spin_turns++;
  if (es->shutdown.load() || NowNs() >= es->spin_until) uv_idle_stop(h);
}

void OnSpinClosed(uv_handle_t *h) { delete reinterpret_cast<uv_idle_t *>(h); }

}  // namespace

void KeepPolling(EnvState *es) {
  if (es->spin_ns == 0 || !es->spin) return;
  if (es->spin_adaptive) {
    es->replies = ((es->replies << 1) | (es->replied ? 1u : 0u)) & 0xffu;  // the previous write's outcome
    es->replied = false;
    if (__builtin_popcount(es->replies) < 4) return;
  }
  es->spin_writes++;
  es->spin_until = NowNs() + es->spin_ns;
  if (!uv_is_active(reinterpret_cast<uv_handle_t *>(es->spin))) uv_idle_start(es->spin, OnSpin);
}

void SampleTaken(EnvState *es) {
  if (!es->spin_ns || NowNs() - es->write_end_ns > es->spin_ns) return;
  es->replied = true;
  // Adaptive: the reply came, the loop may sleep again (the window ends on its next turn).
  if (es->spin_adaptive) es->spin_until = 0;
}

// busyPoll(us, adaptive = false) -> the previous setting { us, adaptive }: poll the loop for `us`
// after each write (adaptive: after writes that replies follow; 0: never, the addon's default).
// This JS thread only.
Napi::Value BusyPoll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  EnvState *es = StateOf(env);
  if (!info[0].IsNumber()) return Fail(env, "busyPoll(us, adaptive)");
  const double us = info[0].As<Napi::Number>().DoubleValue();
  if (!(us >= 0 && us <= 1e6)) return Fail(env, "busyPoll: window out of range (0 to 1000000 us)");
  Napi::Object prev = Napi::Object::New(env);
  prev.Set("us", Napi::Number::New(env, double(es->spin_ns) / 1000.0));
  prev.Set("adaptive", Napi::Boolean::New(env, es->spin_adaptive));
  es->spin_adaptive = info.Length() > 1 && info[1].ToBoolean().Value();
  es->replies = 0;
  es->replied = false;
  if (!es->spin && us > 0) {
    uv_loop_t *loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return Fail(env, "busyPoll: no event loop");
    es->spin = new uv_idle_t;
    if (uv_idle_init(loop, es->spin) != 0) {
      delete es->spin;
      es->spin = nullptr;
      return Fail(env, "busyPoll: cannot make the idle handle");
    }
    es->spin->data = es;
    uv_unref(reinterpret_cast<uv_handle_t *>(es->spin));
  }
  es->spin_ns = uint64_t(us * 1000.0);
  if (es->spin_ns == 0 && es->spin) uv_idle_stop(es->spin);
  return prev;
}

// busyPollTurns() -> loop turns this thread has polled through so far (what the polling did).
Napi::Value BusyPollTurns(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), double(StateOf(info.Env())->spin_turns));
}

// busyPollWrites() -> writes on this thread that opened a polling window so far.
Napi::Value BusyPollWrites(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), double(StateOf(info.Env())->spin_writes));
}

// JS thread, at the environment's teardown.
void ClosePolling(EnvState *es) {
  if (!es->spin) return;
  uv_idle_stop(es->spin);
  uv_close(reinterpret_cast<uv_handle_t *>(es->spin), OnSpinClosed);
  es->spin = nullptr;
}

}  // namespace xauto_dds
