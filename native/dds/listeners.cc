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
  if (env != nullptr && !job->ep->es->shutdown.load()) {  // else the environment is tearing down
    Napi::HandleScope scope(env);
    DeliverEvent(env, job->ep, job->event);
  } else {
    delete job->event;
  }
  delete job;
}

namespace {

// JS thread: the listener signalled data. Within a callback scope, so promise continuations
// (an awaiting application) run as soon as the samples are delivered, as after any I/O.
void OnWake(uv_async_t *h) {
  Endpoint *ep = static_cast<Endpoint *>(h->data);
  if (ep->es->shutdown.load()) return;
  napi_env env = ep->env;
  napi_handle_scope hs;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return;
  napi_value resource;
  napi_callback_scope cs;
  if (napi_get_reference_value(env, ep->resource, &resource) == napi_ok &&
      napi_open_callback_scope(env, resource, ep->async_cx, &cs) == napi_ok) {
    SampleTaken(ep->es);
    TakeAll(Napi::Env(env), ep);
    napi_close_callback_scope(env, cs);
  }
  napi_close_handle_scope(env, hs);
}

void OnWakeClosed(uv_handle_t *h) {
  Endpoint *ep = static_cast<Endpoint *>(h->data);
  delete reinterpret_cast<uv_async_t *>(h);
  Unhold(ep);
}

}  // namespace

bool OpenWake(Napi::Env env, Endpoint *ep) {
  uv_loop_t *loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return false;
  Napi::Object resource = Napi::Object::New(env);
  if (napi_async_init(env, resource, Napi::String::New(env, "xauto-dds-data"), &ep->async_cx) != napi_ok) return false;
  napi_create_reference(env, resource, 1, &ep->resource);
  uv_async_t *h = new uv_async_t;
  if (uv_async_init(loop, h, OnWake) != 0) {
    delete h;
    return false;
  }
  h->data = ep;
  ep->env = env;
  ep->wake = h;
  ep->holds++;
  return true;
}

// JS thread, once no listener can signal any more (the entity deleted, or never made).
void CloseWake(Endpoint *ep) {
  if (!ep->wake) return;
  uv_handle_t *h = reinterpret_cast<uv_handle_t *>(ep->wake);
  ep->wake = nullptr;
  if (!ep->es->shutdown.load()) {
    napi_async_destroy(ep->env, ep->async_cx);
    napi_delete_reference(ep->env, ep->resource);
  }
  uv_close(h, OnWakeClosed);
}

void Post(Endpoint *ep, StatusEvent *ev) {
  if (ep->closed.load()) {
    delete ev;
    return;
  }
  if (!ev) {
    // uv_async_send is lock-free and coalesces; `pending` keeps it to one per burst.
    if (ep->wake) uv_async_send(ep->wake);
    return;
  }
  Job *job = new Job{ep, ev};
  if (ep->tsfn.NonBlockingCall(job) != napi_ok) {
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

