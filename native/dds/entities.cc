// Participants, topics, readers and writers: creation and deletion, QoS, environment teardown.
#include <algorithm>

#include "endpoint.h"

namespace xauto_dds {

namespace {

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

}  // namespace

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

namespace {

Endpoint *MakeEndpoint(Napi::Env env, Napi::Value on_event, Napi::Value on_data) {
  Endpoint *ep = new Endpoint();
  ep->es = StateOf(env);
  if (on_event.IsFunction()) ep->on_event = Napi::Persistent(on_event.As<Napi::Function>());
  if (on_data.IsFunction()) ep->on_data = Napi::Persistent(on_data.As<Napi::Function>());
  ep->tsfn = Tsfn::New(env, "xauto-dds", 0, 1, nullptr, [ep](Napi::Env, void *, std::nullptr_t *) { Unhold(ep); });
  // Only readers with a data callback keep the event loop alive (like a ROS2 spin()): their
  // data wake-up does; status events alone do not.
  ep->tsfn.Unref(env);
  if (on_data.IsFunction() && !OpenWake(env, ep)) ep->on_data.Reset();
  return ep;
}

// After the DDS entity is gone: queued calls still run (and see `closed`), then the
// finalizer and the wake-up's close let go of the endpoint.
void DropEndpoint(Endpoint *ep) {
  CloseWake(ep);
  ep->tsfn.Release();
}

Napi::Value CreateEndpoint(const Napi::CallbackInfo &info, bool reader) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber())
    return Fail(env, reader ? "createReader(participant, topic, qos, onData, onEvent, lend?)" : "createWriter(participant, topic, qos, onEvent)");
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
  ep->lend = reader && info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  ep->type = st;
  dds_listener_t *l = dds_create_listener(ep);
  SetListeners(l, reader);
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

}  // namespace

void Unhold(Endpoint *ep) {
  if (--ep->holds > 0) return;
  ep->on_data.Reset();
  ep->on_event.Reset();
  delete ep;
}

Napi::Value CreateReader(const Napi::CallbackInfo &info) { return CreateEndpoint(info, true); }
Napi::Value CreateWriter(const Napi::CallbackInfo &info) { return CreateEndpoint(info, false); }



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
  // No listener runs any more: the wake-ups are closed before the loop is.
  for (Endpoint *ep : eps) CloseWake(ep);
  ClosePolling(es);
}


}  // namespace xauto_dds
