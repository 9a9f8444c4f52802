// Cyclone listener callbacks (Cyclone threads) and their delivery on the JS thread.
#include "endpoint.h"

namespace xauto_dds {

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

namespace {

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

}  // namespace

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

namespace {

void OnDataAvailable(dds_entity_t, void *arg) {
  Endpoint *ep = static_cast<Endpoint *>(arg);
  ep->arrived.fetch_add(1, std::memory_order_relaxed);
  if (ep->relay_to.load(std::memory_order_acquire) != 0) return RelayAll(ep);
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
}  // namespace

void SetListeners(dds_listener_t *l, bool reader) {
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
}

}  // namespace xauto_dds

