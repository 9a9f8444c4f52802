// A reader's samples into JavaScript, and its counters.
#include <algorithm>
#include <cstring>

#include "endpoint.h"

namespace xauto_dds {

// ---- JS thread: drain a reader ----

namespace {

// Samples at least this large reach JS as external ArrayBuffers over Cyclone's own memory.
constexpr uint32_t kZeroCopyMin = 64 * 1024;

void FinalizeSerdata(Napi::Env, void *, RawSerdata *sd) {
  ddsi_serdata_unref(&sd->c);
}

}  // namespace

void TakeAll(Napi::Env env, Endpoint *ep) {
  const uint64_t woke = NowNs();
  const uint64_t posted = std::max(ep->posted_ns.load(std::memory_order_relaxed), ep->es->write_end_ns);
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
  bool first = true;
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
      Napi::ArrayBuffer lent;
      if (sd->size >= kZeroCopyMin) {
        // The ArrayBuffer keeps the sample's reference; GC releases it.
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sd->bytes(), sd->size, FinalizeSerdata, sd);
        arr = Napi::Uint8Array::New(env, sd->size, ab, 0);
        if (ep->lend) lent = ab;
      } else {
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sd->size);
        memcpy(ab.Data(), sd->bytes(), sd->size);
        ddsi_serdata_unref(buf[i]);
        arr = Napi::Uint8Array::New(env, sd->size == 0 ? 0 : ab.ByteLength(), ab, 0);
        if (ep->lend) lent = ab;
      }
      const uint64_t t0 = NowNs();
      if (first) {
        ep->take_us[ep->take_n++ % Endpoint::kTimings] = float(t0 - woke) / 1000.0f;
        first = false;
      }
      CallQuiet(env, ep->on_data, arr);
      // The loan ends with the callback: the detach releases the sample (its finalizer runs
      // on the next loop turn), and whatever the callback kept of it reads as empty.
      if (!lent.IsEmpty()) napi_detach_arraybuffer(env, lent);
      ep->deliver_us[ep->deliver_n++ % Endpoint::kTimings] = float(NowNs() - t0) / 1000.0f;
    }
    if (static_cast<uint32_t>(n) < kBatch) return;
  }
}

Napi::Value Malformed(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep) return Fail(env, "malformed: unknown endpoint");
  return Napi::Number::New(env, static_cast<double>(ep->type->malformed.load()));
}

void RelayAll(Endpoint *ep) {
  const dds_entity_t to = ep->relay_to.load(std::memory_order_acquire);
  constexpr uint32_t kBatch = 32;
  ddsi_serdata *buf[kBatch];
  dds_sample_info_t si[kBatch];
  for (;;) {
    const dds_return_t n = dds_takecdr(ep->entity, buf, kBatch, si, DDS_ANY_STATE);
    if (n <= 0) return;
    for (int32_t i = 0; i < n; i++) {
      if (si[i].valid_data && !ep->closed.load()) {
        // A sample of the writer's type with the same bytes (header and padding bits kept).
        RawSerdata *copy = copy_raw_serdata(reinterpret_cast<RawSerdata *>(buf[i]), &ep->relay_type->c);
        if (copy) {
          copy->c.timestamp.v = dds_time();
          if (dds_writecdr(to, &copy->c) >= 0) ep->relayed.fetch_add(1, std::memory_order_relaxed);
        }
      }
      ddsi_serdata_unref(buf[i]);
    }
    if (static_cast<uint32_t>(n) < kBatch) return;
  }
}

// relay(reader, writer) -> every sample the reader gets from now on is written by the writer
// from Cyclone's receive thread (a topic relay without a JavaScript round trip); returns the
// samples relayed so far when called with the reader alone.
Napi::Value Relay(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *rd = EndpointArg(info);
  if (!rd || !rd->is_reader) return Fail(env, "relay: unknown reader");
  if (info.Length() < 2) return Napi::Number::New(env, static_cast<double>(rd->relayed.load()));
  Endpoint *wr = info[1].IsNumber() ? FindEndpoint(info[1].As<Napi::Number>().Int32Value()) : nullptr;
  if (!wr || wr->is_reader) return Fail(env, "relay: unknown writer");
  if (!rd->on_data.IsEmpty()) return Fail(env, "relay: the reader delivers to JavaScript already");
  rd->relay_type = wr->type;
  rd->relay_to.store(wr->entity, std::memory_order_release);
  RelayAll(rd);  // what arrived before
  return Napi::Number::New(env, 0);
}

// timing(endpoint) -> the recent timings (Float32Array each, us), then cleared: a reader's
// { wakeUs, takeUs, deliverUs }, a writer's { sendUs }.
Napi::Value Timing(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep) return Fail(env, "timing: unknown endpoint");
  auto copy = [&](const float *ring, uint32_t &n) {
    const uint32_t count = std::min(n, Endpoint::kTimings);
    Napi::Float32Array out = Napi::Float32Array::New(env, count);
    for (uint32_t i = 0; i < count; i++) out[i] = ring[(n - count + i) % Endpoint::kTimings];
    n = 0;
    return out;
  };
  Napi::Object o = Napi::Object::New(env);
  if (ep->is_reader) {
    o.Set("wakeUs", copy(ep->wake_us, ep->wake_n));
    o.Set("takeUs", copy(ep->take_us, ep->take_n));
    o.Set("deliverUs", copy(ep->deliver_us, ep->deliver_n));
  } else {
    o.Set("sendUs", copy(ep->wake_us, ep->wake_n));  // a writer's ring: dds_writecdr
  }
  return o;
}

// overwritten(reader) -> samples the reader's keep_last history pushed out before they were taken.
Napi::Value Overwritten(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep || !ep->is_reader) return Fail(env, "overwritten: unknown reader");
  return Napi::Number::New(env, static_cast<double>(ep->overwritten));
}

}  // namespace xauto_dds
