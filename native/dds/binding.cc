// xauto_dds: Cyclone DDS (0.10.x) for the TypeScript ROS2 layer. Topics use the raw-CDR
// serializer type (raw_cdr.h); data and status events reach JavaScript through thread-safe
// functions fired from Cyclone's listener threads (no polling).
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dds/version.h"
#include "raw_cdr.h"

using namespace xauto_dds;

namespace {

// Samples at least this large reach JS as external ArrayBuffers over Cyclone's own memory.
constexpr uint32_t kZeroCopyMin = 64 * 1024;

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
};

EnvState *StateOf(napi_env env) {
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
  RawSertype *type = nullptr;  // owned by the topic
  EnvState *es = nullptr;
  // Set before the DDS entity exists and released only after it is deleted (dds_delete waits
  // for running listeners), so listener threads use it without locking.
  Tsfn tsfn;
  Job data_job{this, nullptr};       // at most one is queued (see `pending`): no allocation per wake-up
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
  // Where a sample's time goes on arrival (for `npm run bench -- dds`): the last kTimings
  // delays from the listener thread's wake-up call to the JS thread taking the samples, and
  // the time each JS data callback took (decode, rxjs, the application). Written on the JS
  // thread only; preallocated, so measuring allocates nothing.
  static constexpr uint32_t kTimings = 4096;
  std::atomic<uint64_t> posted_ns{0};
  float wake_us[kTimings];
  float deliver_us[kTimings];
  uint32_t wake_n = 0, deliver_n = 0;
};

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

std::mutex g_mu;
std::unordered_map<dds_entity_t, RawSertype *> g_topic_types;
std::unordered_map<dds_entity_t, Endpoint *> g_endpoints;
struct Builtin {
  dds_entity_t pubs, subs;
};
std::unordered_map<dds_entity_t, Builtin> g_discovery;

Napi::Value Fail(Napi::Env env, const std::string &what, dds_return_t rc) {
  Napi::Error::New(env, "xauto dds: " + what + ": " + dds_strretcode(rc)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Fail(Napi::Env env, const std::string &what) {
  Napi::TypeError::New(env, "xauto dds: " + what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// ---- listeners (Cyclone threads) ----

// Calls a JS callback through the C API: a throwing callback must not lose the rest of a batch,
// and during environment teardown calls simply fail instead of aborting.
void CallQuiet(Napi::Env env, Napi::FunctionReference &fn, napi_value arg) {
  napi_value global, result;
  if (napi_get_global(env, &global) != napi_ok) return;
  if (napi_call_function(env, global, fn.Value(), 1, &arg, &result) != napi_ok) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
  }
}

void DeliverEvent(Napi::Env env, Endpoint *ep, StatusEvent *e) {
  if (!ep->on_event.IsEmpty() && !ep->closed.load()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", e->kind);
    o.Set("total", e->total);
    o.Set("change", e->change);
    o.Set("policy", e->policy);
    o.Set("current", e->current);
    CallQuiet(env, ep->on_event, o);
  }
  delete e;
}

void TakeAll(Napi::Env env, Endpoint *ep);

void CallJs(Napi::Env env, Napi::Function, std::nullptr_t *, Job *job) {
  const bool data = job->event == nullptr;
  if (env == nullptr || job->ep->es->shutdown.load()) {  // environment tearing down
    if (!data) {
      delete job->event;
      delete job;
    }
    return;
  }
  Napi::HandleScope scope(env);
  if (data) {
    TakeAll(env, job->ep);
  } else {
    DeliverEvent(env, job->ep, job->event);
    delete job;
  }
}

void Post(Endpoint *ep, StatusEvent *ev) {
  if (ep->closed.load()) {
    delete ev;
    return;
  }
  Job *job = ev ? new Job{ep, ev} : &ep->data_job;
  if (ep->tsfn.NonBlockingCall(job) != napi_ok && ev) {
    delete ev;
    delete job;
  }
}

void OnDataAvailable(dds_entity_t, void *arg) {
  Endpoint *ep = static_cast<Endpoint *>(arg);
  ep->arrived.fetch_add(1, std::memory_order_relaxed);
  // One queued wake-up per burst: the JS side clears the flag before it drains the reader.
  if (!ep->pending.exchange(true)) {
    ep->posted_ns.store(NowNs(), std::memory_order_relaxed);
    Post(ep, nullptr);
  }
}

void OnReqIncompatible(dds_entity_t, const dds_requested_incompatible_qos_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"incompatible_qos", s.total_count, s.total_count_change, s.last_policy_id, 0});
}
void OnOffIncompatible(dds_entity_t, const dds_offered_incompatible_qos_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"incompatible_qos", s.total_count, s.total_count_change, s.last_policy_id, 0});
}
void OnReqDeadline(dds_entity_t, const dds_requested_deadline_missed_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"deadline_missed", s.total_count, s.total_count_change, 0, 0});
}
void OnOffDeadline(dds_entity_t, const dds_offered_deadline_missed_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"deadline_missed", s.total_count, s.total_count_change, 0, 0});
}
void OnSampleLost(dds_entity_t, const dds_sample_lost_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"sample_lost", s.total_count, s.total_count_change, 0, 0});
}
void OnSampleRejected(dds_entity_t, const dds_sample_rejected_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"sample_rejected", s.total_count, s.total_count_change, static_cast<uint32_t>(s.last_reason), 0});
}
void OnPubMatched(dds_entity_t, const dds_publication_matched_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"matched", s.total_count, s.total_count_change, 0, static_cast<int32_t>(s.current_count)});
}
void OnSubMatched(dds_entity_t, const dds_subscription_matched_status_t s, void *arg) {
  Post(static_cast<Endpoint *>(arg), new StatusEvent{"matched", s.total_count, s.total_count_change, 0, static_cast<int32_t>(s.current_count)});
}

// ---- JS thread: drain a reader ----

void FinalizeSerdata(Napi::Env env, void *, RawSerdata *sd) {
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(sd->size), &ignored);
  ddsi_serdata_unref(&sd->c);
}

void TakeAll(Napi::Env env, Endpoint *ep) {
  const uint64_t woke = NowNs();
  const uint64_t posted = ep->posted_ns.load(std::memory_order_relaxed);
  if (posted != 0 && woke >= posted) ep->wake_us[ep->wake_n++ % Endpoint::kTimings] = float(woke - posted) / 1000.0f;
  ep->pending.store(false);
  if (ep->closed.load() || ep->on_data.IsEmpty()) return;
  // Every sample stored before this point is taken below or was pushed out of the history.
  const uint64_t stored = ep->arrived.load(std::memory_order_relaxed);
  struct Account {
    Endpoint *ep;
    uint64_t stored;
    ~Account() {
      if (stored > ep->taken && stored - ep->taken > ep->overwritten) ep->overwritten = stored - ep->taken;
    }
  } account{ep, stored};
  constexpr uint32_t kBatch = 32;
  ddsi_serdata *buf[kBatch];
  dds_sample_info_t si[kBatch];
  for (;;) {
    dds_return_t n = dds_takecdr(ep->entity, buf, kBatch, si, DDS_ANY_STATE);
    if (n <= 0) return;
    ep->taken += static_cast<uint64_t>(n);
    for (int32_t i = 0; i < n; i++) {
      RawSerdata *sd = reinterpret_cast<RawSerdata *>(buf[i]);
      if (!si[i].valid_data || ep->closed.load()) {
        ddsi_serdata_unref(buf[i]);
        continue;
      }
      Napi::Value arr;
      if (sd->size >= kZeroCopyMin) {
        // The ArrayBuffer keeps the sample's reference; GC releases it.
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sd->bytes(), sd->size, FinalizeSerdata, sd);
        // Tell the GC how much memory the buffer pins, so samples go back to the pool promptly.
        int64_t ignored;
        napi_adjust_external_memory(env, sd->size, &ignored);
        arr = Napi::Uint8Array::New(env, sd->size, ab, 0);
      } else {
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sd->size);
        memcpy(ab.Data(), sd->bytes(), sd->size);
        ddsi_serdata_unref(buf[i]);
        arr = Napi::Uint8Array::New(env, sd->size == 0 ? 0 : ab.ByteLength(), ab, 0);
      }
      const uint64_t t0 = NowNs();
      CallQuiet(env, ep->on_data, arr);
      ep->deliver_us[ep->deliver_n++ % Endpoint::kTimings] = float(NowNs() - t0) / 1000.0f;
    }
    if (static_cast<uint32_t>(n) < kBatch) return;
  }
}

// ---- QoS from a JS object ----

bool ReadQos(Napi::Env env, Napi::Value v, dds_qos_t *q) {
  if (!v.IsObject()) return true;
  Napi::Object o = v.As<Napi::Object>();
  auto str = [&](const char *k) -> std::string {
    Napi::Value x = o.Get(k);
    return x.IsString() ? x.As<Napi::String>().Utf8Value() : std::string();
  };
  auto num = [&](const char *k, double def) -> double {
    Napi::Value x = o.Get(k);
    return x.IsNumber() ? x.As<Napi::Number>().DoubleValue() : def;
  };
  const std::string rel = str("reliability");
  if (rel == "best_effort")
    dds_qset_reliability(q, DDS_RELIABILITY_BEST_EFFORT, 0);
  else
    dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  const std::string dur = str("durability");
  dds_qset_durability(q, dur == "transient_local" ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  const std::string hist = str("history");
  const int32_t depth = static_cast<int32_t>(num("depth", 10));
  if (hist == "keep_all")
    dds_qset_history(q, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED);
  else
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth > 0 ? depth : 1);
  const double deadline_ms = num("deadlineMs", 0);
  if (deadline_ms > 0) dds_qset_deadline(q, static_cast<dds_duration_t>(deadline_ms * 1e6));
  const double lifespan_ms = num("lifespanMs", 0);
  if (lifespan_ms > 0) dds_qset_lifespan(q, static_cast<dds_duration_t>(lifespan_ms * 1e6));
  const std::string live = str("liveliness");
  const double lease_ms = num("leaseMs", 0);
  if (live == "manual_by_topic")
    dds_qset_liveliness(q, DDS_LIVELINESS_MANUAL_BY_TOPIC, lease_ms > 0 ? static_cast<dds_duration_t>(lease_ms * 1e6) : DDS_INFINITY);
  else if (lease_ms > 0)
    dds_qset_liveliness(q, DDS_LIVELINESS_AUTOMATIC, static_cast<dds_duration_t>(lease_ms * 1e6));
  (void)env;
  return true;
}

// ---- exported functions ----

Napi::Value CreateParticipant(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Fail(env, "createParticipant(domainId)");
  const uint32_t domain = info[0].As<Napi::Number>().Uint32Value();
  dds_entity_t pp = dds_create_participant(domain, nullptr, nullptr);
  if (pp < 0) return Fail(env, "cannot create participant on domain " + std::to_string(domain), pp);
  // Discovery data is only kept from the moment a builtin reader exists: create them now.
  dds_qos_t *q = dds_create_qos();
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 1);
  dds_qset_durability(q, DDS_DURABILITY_TRANSIENT_LOCAL);
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_entity_t pubs = dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSPUBLICATION, q, nullptr);
  dds_entity_t subs = dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION, q, nullptr);
  dds_delete_qos(q);
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_discovery[pp] = Builtin{pubs, subs};
    StateOf(env)->participants.push_back(pp);
  }
  return Napi::Number::New(env, pp);
}

Napi::Value CreateTopic(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsString() || !info[2].IsString())
    return Fail(env, "createTopic(participant, ddsTopicName, ddsTypeName)");
  const dds_entity_t pp = info[0].As<Napi::Number>().Int32Value();
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  const std::string type_name = info[2].As<Napi::String>().Utf8Value();
  RawSertype *st = new_raw_sertype(type_name);
  ddsi_sertype *stp = &st->c;
  dds_entity_t tp = dds_create_topic_sertype(pp, name.c_str(), &stp, nullptr, nullptr, nullptr);
  if (tp < 0) {
    ddsi_sertype_fini(&st->c);
    delete st;
    return Fail(env, "cannot create topic '" + name + "' of type '" + type_name + "'", tp);
  }
  // Cyclone may hand back an equal, already registered sertype (ours was then released).
  std::lock_guard<std::mutex> lk(g_mu);
  g_topic_types[tp] = reinterpret_cast<RawSertype *>(stp);
  return Napi::Number::New(env, tp);
}

Endpoint *MakeEndpoint(Napi::Env env, Napi::Value on_event, Napi::Value on_data) {
  Endpoint *ep = new Endpoint();
  ep->es = StateOf(env);
  if (on_event.IsFunction()) ep->on_event = Napi::Persistent(on_event.As<Napi::Function>());
  if (on_data.IsFunction()) ep->on_data = Napi::Persistent(on_data.As<Napi::Function>());
  ep->tsfn = Tsfn::New(env, "xauto-dds", 0, 1, nullptr, [ep](Napi::Env, void *, std::nullptr_t *) {
    ep->on_data.Reset();
    ep->on_event.Reset();
    delete ep;
  });
  // Only readers with a data callback keep the event loop alive (like a ROS2 spin()).
  if (!on_data.IsFunction()) ep->tsfn.Unref(env);
  return ep;
}

// After the DDS entity is gone: queued calls still run (and see `closed`), then the
// finalizer frees the endpoint.
void DropEndpoint(Endpoint *ep) { ep->tsfn.Release(); }

Napi::Value CreateEndpoint(const Napi::CallbackInfo &info, bool reader) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber())
    return Fail(env, reader ? "createReader(participant, topic, qos, onData, onEvent)" : "createWriter(participant, topic, qos, onEvent)");
  const dds_entity_t pp = info[0].As<Napi::Number>().Int32Value();
  const dds_entity_t tp = info[1].As<Napi::Number>().Int32Value();
  RawSertype *st;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_topic_types.find(tp);
    if (it == g_topic_types.end()) return Fail(env, "unknown topic handle");
    st = it->second;
  }
  dds_qos_t *q = dds_create_qos();
  ReadQos(env, info[2], q);
  Endpoint *ep = reader ? MakeEndpoint(env, info[4], info[3]) : MakeEndpoint(env, info[3], env.Undefined());
  ep->is_reader = reader;
  ep->type = st;
  dds_listener_t *l = dds_create_listener(ep);
  if (reader) {
    dds_lset_data_available(l, OnDataAvailable);
    dds_lset_requested_incompatible_qos(l, OnReqIncompatible);
    dds_lset_requested_deadline_missed(l, OnReqDeadline);
    dds_lset_sample_lost(l, OnSampleLost);
    dds_lset_sample_rejected(l, OnSampleRejected);
    dds_lset_subscription_matched(l, OnSubMatched);
  } else {
    dds_lset_offered_incompatible_qos(l, OnOffIncompatible);
    dds_lset_offered_deadline_missed(l, OnOffDeadline);
    dds_lset_publication_matched(l, OnPubMatched);
  }
  dds_entity_t e = reader ? dds_create_reader(pp, tp, q, l) : dds_create_writer(pp, tp, q, l);
  dds_delete_listener(l);
  dds_delete_qos(q);
  if (e < 0) {
    ep->closed.store(true);
    DropEndpoint(ep);
    return Fail(env, reader ? "cannot create reader" : "cannot create writer", e);
  }
  ep->entity = e;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_endpoints[e] = ep;
  }
  // Samples that arrived between creation and now (transient-local history) are drained too.
  if (reader && !ep->pending.exchange(true)) Post(ep, nullptr);
  return Napi::Number::New(env, e);
}

Napi::Value CreateReader(const Napi::CallbackInfo &info) { return CreateEndpoint(info, true); }
Napi::Value CreateWriter(const Napi::CallbackInfo &info) { return CreateEndpoint(info, false); }

Endpoint *FindEndpoint(dds_entity_t e) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_endpoints.find(e);
  return it == g_endpoints.end() ? nullptr : it->second;
}

// write(writer, bytes: Uint8Array): copies the CDR bytes once into a (pooled) DDS sample, so
// the caller may reuse its buffer at once.
Napi::Value Write(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsTypedArray()) return Fail(env, "write(writer, bytes: Uint8Array)");
  Endpoint *ep = FindEndpoint(info[0].As<Napi::Number>().Int32Value());
  if (!ep || ep->is_reader) return Fail(env, "write: not a writer handle");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  const uint8_t *src = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  const size_t len = ta.ByteLength();
  if (!valid_encapsulation(src, len)) return Fail(env, "write: bytes do not start with a CDR encapsulation header");
  RawSerdata *sd = alloc_raw_serdata(static_cast<uint32_t>(len));
  if (!sd) return Fail(env, "write: out of memory");
  memcpy(sd->bytes(), src, len);
  init_raw_serdata(sd, &ep->type->c);
  sd->c.timestamp.v = dds_time();
  dds_return_t rc = dds_writecdr(ep->entity, &sd->c);
  if (rc < 0) return Fail(env, "write failed", rc);
  return env.Undefined();
}

Napi::Value Matched(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
  if (!ep) return Fail(env, "matched: unknown endpoint");
  if (ep->is_reader) {
    dds_subscription_matched_status_t s;
    if (dds_get_subscription_matched_status(ep->entity, &s) < 0) return Napi::Number::New(env, 0);
    return Napi::Number::New(env, s.current_count);
  }
  dds_publication_matched_status_t s;
  if (dds_get_publication_matched_status(ep->entity, &s) < 0) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, s.current_count);
}

// acked(writer) -> true once every matched reliable reader acknowledged all samples written.
Napi::Value Acked(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
  if (!ep || ep->is_reader) return Fail(env, "acked: unknown writer");
  return Napi::Boolean::New(env, dds_wait_for_acks(ep->entity, 0) == DDS_RETCODE_OK);
}

Napi::Value Malformed(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
  if (!ep) return Fail(env, "malformed: unknown endpoint");
  return Napi::Number::New(env, static_cast<double>(ep->type->malformed.load()));
}

// timing(reader) -> { wakeUs, deliverUs }: the recent arrival timings (Float32Array each), then
// cleared.
Napi::Value Timing(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
  if (!ep || !ep->is_reader) return Fail(env, "timing: unknown reader");
  auto copy = [&](const float *ring, uint32_t &n) {
    const uint32_t count = std::min(n, Endpoint::kTimings);
    Napi::Float32Array out = Napi::Float32Array::New(env, count);
    for (uint32_t i = 0; i < count; i++) out[i] = ring[(n - count + i) % Endpoint::kTimings];
    n = 0;
    return out;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("wakeUs", copy(ep->wake_us, ep->wake_n));
  o.Set("deliverUs", copy(ep->deliver_us, ep->deliver_n));
  return o;
}

// overwritten(reader) -> samples the reader's keep_last history pushed out before they were taken.
Napi::Value Overwritten(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
  if (!ep || !ep->is_reader) return Fail(env, "overwritten: unknown reader");
  return Napi::Number::New(env, static_cast<double>(ep->overwritten));
}

Napi::Value DeleteEndpoint(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Fail(env, "deleteEndpoint(handle)");
  const dds_entity_t e = info[0].As<Napi::Number>().Int32Value();
  Endpoint *ep;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_endpoints.find(e);
    if (it == g_endpoints.end()) return env.Undefined();
    ep = it->second;
    g_endpoints.erase(it);
  }
  ep->closed.store(true);
  dds_delete(e);  // waits for listener callbacks in progress
  DropEndpoint(ep);
  return env.Undefined();
}

Napi::Value DeleteEntity(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Fail(env, "deleteEntity(handle)");
  const dds_entity_t e = info[0].As<Napi::Number>().Int32Value();
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_topic_types.erase(e);
    g_discovery.erase(e);
    auto &pps = StateOf(env)->participants;
    pps.erase(std::remove(pps.begin(), pps.end(), e), pps.end());
  }
  dds_delete(e);
  return env.Undefined();
}

std::string GuidHex(const dds_guid_t &g) {
  static const char *hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; i++) {
    s += hex[g.v[i] >> 4];
    s += hex[g.v[i] & 15];
  }
  return s;
}

void ReadEndpoints(Napi::Env env, dds_entity_t rd, const char *kind, Napi::Array &out) {
  constexpr int kMax = 1024;
  std::vector<void *> buf(kMax, nullptr);
  std::vector<dds_sample_info_t> si(kMax);
  dds_return_t n = dds_read(rd, buf.data(), si.data(), kMax, kMax);
  if (n <= 0) return;
  for (int i = 0; i < n; i++) {
    if (!si[i].valid_data || si[i].instance_state != DDS_IST_ALIVE) continue;
    auto *ep = static_cast<dds_builtintopic_endpoint_t *>(buf[i]);
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", kind);
    o.Set("topic", ep->topic_name ? ep->topic_name : "");
    o.Set("type", ep->type_name ? ep->type_name : "");
    o.Set("guid", GuidHex(ep->key));
    o.Set("participant", GuidHex(ep->participant_key));
    if (ep->qos) {
      dds_reliability_kind_t rk;
      dds_duration_t blk;
      if (dds_qget_reliability(ep->qos, &rk, &blk)) o.Set("reliability", rk == DDS_RELIABILITY_RELIABLE ? "reliable" : "best_effort");
      dds_durability_kind_t dk;
      if (dds_qget_durability(ep->qos, &dk))
        o.Set("durability", dk == DDS_DURABILITY_VOLATILE ? "volatile" : dk == DDS_DURABILITY_TRANSIENT_LOCAL ? "transient_local" : "transient");
      dds_history_kind_t hk;
      int32_t depth;
      if (dds_qget_history(ep->qos, &hk, &depth)) {
        o.Set("history", hk == DDS_HISTORY_KEEP_ALL ? "keep_all" : "keep_last");
        o.Set("depth", depth);
      }
      dds_duration_t dl;
      if (dds_qget_deadline(ep->qos, &dl) && dl != DDS_INFINITY) o.Set("deadlineMs", static_cast<double>(dl) / 1e6);
    }
    out.Set(out.Length(), o);
  }
  dds_return_loan(rd, buf.data(), n);
}

// endpoints(participant) -> every publication and subscription discovered so far (local too).
Napi::Value Endpoints(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Fail(env, "endpoints(participant)");
  Builtin b;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_discovery.find(info[0].As<Napi::Number>().Int32Value());
    if (it == g_discovery.end()) return Fail(env, "endpoints: unknown participant");
    b = it->second;
  }
  Napi::Array out = Napi::Array::New(env);
  ReadEndpoints(env, b.pubs, "publisher", out);
  ReadEndpoints(env, b.subs, "subscriber", out);
  return out;
}

Napi::Value Version(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), DDS_VERSION); }

// Stops this environment's DDS participants (and so their listener threads' calls into it)
// before the environment goes away.
void Cleanup(void *arg) {
  EnvState *es = static_cast<EnvState *>(arg);
  es->shutdown.store(true);
  std::vector<dds_entity_t> pps;
  std::vector<Endpoint *> eps;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    pps.swap(es->participants);
    for (auto it = g_endpoints.begin(); it != g_endpoints.end();) {
      if (it->second->es == es) {
        eps.push_back(it->second);
        it = g_endpoints.erase(it);
      } else {
        ++it;
      }
    }
    for (dds_entity_t pp : pps) g_discovery.erase(pp);
  }
  for (Endpoint *ep : eps) ep->closed.store(true);
  for (dds_entity_t pp : pps) dds_delete(pp);  // already deleted ones just return an error
}

// shutdown(): called from process 'exit' so DDS stops before the environment is torn down.
Napi::Value Shutdown(const Napi::CallbackInfo &info) {
  Cleanup(StateOf(info.Env()));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createParticipant", Napi::Function::New(env, CreateParticipant));
  exports.Set("createTopic", Napi::Function::New(env, CreateTopic));
  exports.Set("createReader", Napi::Function::New(env, CreateReader));
  exports.Set("createWriter", Napi::Function::New(env, CreateWriter));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("matched", Napi::Function::New(env, Matched));
  exports.Set("acked", Napi::Function::New(env, Acked));
  exports.Set("malformed", Napi::Function::New(env, Malformed));
  exports.Set("timing", Napi::Function::New(env, Timing));
  exports.Set("overwritten", Napi::Function::New(env, Overwritten));
  exports.Set("deleteEndpoint", Napi::Function::New(env, DeleteEndpoint));
  exports.Set("deleteEntity", Napi::Function::New(env, DeleteEntity));
  exports.Set("endpoints", Napi::Function::New(env, Endpoints));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown));
  exports.Set("version", Napi::Function::New(env, Version));
  // Never freed: thread-safe-function calls still drained after the cleanup hook read it.
  EnvState *es = new EnvState();
  napi_set_instance_data(env, es, nullptr, nullptr);
  napi_add_env_cleanup_hook(env, Cleanup, es);
  return exports;
}

}  // namespace

NODE_API_MODULE(xauto_dds, Init)
