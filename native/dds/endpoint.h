// Shared state of the xauto_dds addon: endpoints (a DDS reader or writer with its JS callbacks
// and the thread-safe function that carries Cyclone listener events to JavaScript), the
// per-environment state, and the process-wide handle maps.
#pragma once
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "raw_cdr.h"

namespace xauto_dds {

struct Endpoint;
struct Job;
void CallJs(Napi::Env env, Napi::Function, std::nullptr_t *, Job *job);

struct StatusEvent {
  std::string kind;
  uint32_t total;
  int32_t change;
  uint32_t policy;
  int32_t current;
};

// Per JavaScript environment (main thread or a worker): its participants, and whether it is
// shutting down. Tearing one environment down must not touch another's DDS entities.
struct EnvState {
  std::atomic<bool> shutdown{false};
  std::vector<dds_entity_t> participants;  // guarded by g_mu
  // When this thread's last write() returned (for the wake-up timing: a sample signalled while
  // the thread was still sending waited for the send, not for the wake-up). This thread only.
  uint64_t write_end_ns = 0;
  // Busy polling after writes (busy_poll.cc): the window, its end, and the idle handle. JS thread.
  uint64_t spin_ns = 0;
  uint64_t spin_until = 0;
  uv_idle_t *spin = nullptr;
  uint64_t spin_turns = 0;
  // Adaptive: a write opens the window only when samples followed most recent writes within
  // it. `replies`: one bit per recent write (newest lowest), `replied`: the last write's so far.
  bool spin_adaptive = false;
  uint32_t replies = 0;
  bool replied = false;
  uint64_t spin_writes = 0;
};

inline EnvState *StateOf(napi_env env) {
  void *data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<EnvState *>(data);
}

struct Job {
  Endpoint *ep;
  StatusEvent *event;  // null: data available
};

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Job, CallJs>;

struct Endpoint {
  dds_entity_t entity = 0;
  bool is_reader = false;
  // A lending reader: each sample's bytes are the data callback's only while it runs, then
  // detached (the array reads as empty), so the memory goes back to the pool without waiting
  // for V8's GC to find the ArrayBuffer.
  bool lend = false;
  RawSertype *type = nullptr;  // owned by the topic
  EnvState *es = nullptr;
  // Set before the DDS entity exists and released only after it is deleted (dds_delete waits
  // for running listeners), so listener threads use it without locking.
  Tsfn tsfn;  // status events
  // A reader's data wake-up: a bare uv_async on the JS thread's loop, signalled straight from
  // the listener (no thread-safe function's mutex and queue on the way). Readers with a data
  // callback only; closed by DropEndpoint or the environment's cleanup.
  uv_async_t *wake = nullptr;
  napi_env env = nullptr;
  napi_async_context async_cx = nullptr;  // the wake-up's callback scope (runs microtasks after)
  napi_ref resource = nullptr;
  int holds = 1;  // JS thread only: the tsfn, and the wake-up until closed; freed at zero
  Napi::FunctionReference on_data;   // reader: (bytes: Uint8Array) => void
  Napi::FunctionReference on_event;  // (event) => void
  std::atomic<bool> pending{false};
  std::atomic<bool> closed{false};
  // Samples stored in the reader's history (the listener runs once per sample) and samples
  // taken: those stored but never taken were pushed out by a newer one (keep_last depth),
  // which DDS reports nowhere. Counted once the history is drained.
  std::atomic<uint64_t> arrived{0};
  uint64_t taken = 0;
  uint64_t overwritten = 0;
  // A relaying reader (relay()): its listener takes each sample and writes it to this writer on
  // Cyclone's receive thread, without JavaScript. relay_type is set before relay_to.
  std::atomic<dds_entity_t> relay_to{0};
  RawSertype *relay_type = nullptr;
  std::atomic<uint64_t> relayed{0};
  // Where a sample's time goes (for `npm run bench -- dds`), the last kTimings of each: readers,
  // the delay from the listener thread's wake-up call (or, when later, the JS thread's return
  // from its last write) to the JS thread taking the samples (wake), from there to the JS data callback (take: dds_takecdr, the ArrayBuffer), and each
  // callback (deliver: decode, rxjs, the application); writers, dds_writecdr (Cyclone's send
  // on the calling thread). Written on the JS thread only; preallocated, so measuring
  // allocates nothing.
  static constexpr uint32_t kTimings = 4096;
  std::atomic<uint64_t> posted_ns{0};
  float wake_us[kTimings];  // a writer's: its dds_writecdr times
  float take_us[kTimings];
  float deliver_us[kTimings];
  uint32_t wake_n = 0, take_n = 0, deliver_n = 0;
};

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Guards the maps below (handles are created and deleted on JS threads, looked up anywhere).
extern std::mutex g_mu;
extern std::unordered_map<dds_entity_t, RawSertype *> g_topic_types;
extern std::unordered_map<dds_entity_t, Endpoint *> g_endpoints;
struct Builtin {
  dds_entity_t pubs, subs;
};
extern std::unordered_map<dds_entity_t, Builtin> g_discovery;

Napi::Value Fail(Napi::Env env, const std::string &what, dds_return_t rc);
Napi::Value Fail(Napi::Env env, const std::string &what);

// The endpoint behind a handle, or null.
Endpoint *FindEndpoint(dds_entity_t e);
// The endpoint named by info[0], or null.
Endpoint *EndpointArg(const Napi::CallbackInfo &info);

// listeners.cc: Cyclone listener callbacks, and the JS-thread side of their events.
void SetListeners(dds_listener_t *l, bool reader);
void Post(Endpoint *ep, StatusEvent *ev);
void CallQuiet(Napi::Env env, Napi::FunctionReference &fn, napi_value arg);
void CallJs(Napi::Env env, Napi::Function, std::nullptr_t *, Job *job);
// reader.cc: drains a reader on the JS thread; or relays it (any thread).
void TakeAll(Napi::Env env, Endpoint *ep);
// entities.cc: one hold on the endpoint let go (JS thread); the last frees it.
void Unhold(Endpoint *ep);
// listeners.cc: the reader's data wake-up, made on the JS thread's loop; closed (JS thread).
bool OpenWake(Napi::Env env, Endpoint *ep);
void CloseWake(Endpoint *ep);
void RelayAll(Endpoint *ep);
// busy_poll.cc: keep the loop polling for the window after a write; close at teardown (JS thread).
void KeepPolling(EnvState *es);
// JS thread, samples taken: whether they came within the window after the last write.
void SampleTaken(EnvState *es);
void ClosePolling(EnvState *es);

// The exported functions, by file.
Napi::Value CreateParticipant(const Napi::CallbackInfo &info);  // entities.cc
Napi::Value CreateTopic(const Napi::CallbackInfo &info);
Napi::Value CreateReader(const Napi::CallbackInfo &info);
Napi::Value CreateWriter(const Napi::CallbackInfo &info);
Napi::Value DeleteEndpoint(const Napi::CallbackInfo &info);
Napi::Value DeleteEntity(const Napi::CallbackInfo &info);
void Cleanup(void *arg);
Napi::Value Write(const Napi::CallbackInfo &info);  // writer.cc
Napi::Value Loan(const Napi::CallbackInfo &info);
Napi::Value Commit(const Napi::CallbackInfo &info);
Napi::Value Matched(const Napi::CallbackInfo &info);
Napi::Value Acked(const Napi::CallbackInfo &info);
Napi::Value Malformed(const Napi::CallbackInfo &info);  // reader.cc
Napi::Value Timing(const Napi::CallbackInfo &info);
Napi::Value Overwritten(const Napi::CallbackInfo &info);
Napi::Value Relay(const Napi::CallbackInfo &info);
Napi::Value Endpoints(const Napi::CallbackInfo &info);  // discovery.cc
Napi::Value BusyPoll(const Napi::CallbackInfo &info);   // busy_poll.cc
Napi::Value BusyPollTurns(const Napi::CallbackInfo &info);
Napi::Value BusyPollWrites(const Napi::CallbackInfo &info);

}  // namespace xauto_dds
