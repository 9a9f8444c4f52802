// A reader's samples into JavaScript, and its counters.
#include <algorithm>
#include <cstring>

#include "endpoint.h"

namespace xauto_dds {

// ---- JS thread: drain a reader ----

namespace {

// Samples at least this large reach JS as external ArrayBuffers over Cyclone's own memory.
constexpr uint32_t kZeroCopyMin = 64 * 1024;

void FinalizeSerdata(Napi::Env env, void *, RawSerdata *sd) {
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(sd->size), &ignored);
  ddsi_serdata_unref(&sd->c);
}

}  // namespace

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

Napi::Value Malformed(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep) return Fail(env, "malformed: unknown endpoint");
  return Napi::Number::New(env, static_cast<double>(ep->type->malformed.load()));
}

// timing(reader) -> { wakeUs, deliverUs }: the recent arrival timings (Float32Array each), then
// cleared.
Napi::Value Timing(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
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
  Endpoint *ep = EndpointArg(info);
  if (!ep || !ep->is_reader) return Fail(env, "overwritten: unknown reader");
  return Napi::Number::New(env, static_cast<double>(ep->overwritten));
}

}  // namespace xauto_dds
