// Writing CDR samples, and a writer's match and acknowledgement state.
#include <cstring>

#include "endpoint.h"

namespace xauto_dds {

// write(writer, bytes: Uint8Array, length?): copies the first `length` CDR bytes once into a (pooled) DDS sample, so
// the caller may reuse its buffer at once.
Napi::Value Write(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsTypedArray()) return Fail(env, "write(writer, bytes: Uint8Array)");
  Endpoint *ep = EndpointArg(info);
  if (!ep || ep->is_reader) return Fail(env, "write: not a writer handle");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  const uint8_t *src = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  size_t len = ta.ByteLength();
  if (info.Length() > 2 && info[2].IsNumber()) {
    const double n = info[2].As<Napi::Number>().DoubleValue();
    if (!(n >= 0 && n <= static_cast<double>(len))) return Fail(env, "write: length beyond the bytes given");
    len = static_cast<size_t>(n);
  }
  if (!valid_encapsulation(src, len)) return Fail(env, "write: bytes do not start with a CDR encapsulation header");
  RawSerdata *sd = alloc_raw_serdata(static_cast<uint32_t>(len));
  if (!sd) return Fail(env, "write: out of memory");
  memcpy(sd->bytes(), src, len);
  init_raw_serdata(sd, &ep->type->c);
  sd->c.timestamp.v = dds_time();
  const uint64_t t0 = NowNs();
  dds_return_t rc = dds_writecdr(ep->entity, &sd->c);
  const uint64_t t1 = NowNs();
  ep->wake_us[ep->wake_n++ % Endpoint::kTimings] = float(t1 - t0) / 1000.0f;  // writers: send times
  ep->es->write_end_ns = t1;
  if (rc < 0) return Fail(env, "write failed", rc);
  return env.Undefined();
}

Napi::Value Matched(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
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
  Endpoint *ep = EndpointArg(info);
  if (!ep || ep->is_reader) return Fail(env, "acked: unknown writer");
  return Napi::Boolean::New(env, dds_wait_for_acks(ep->entity, 0) == DDS_RETCODE_OK);
}

}  // namespace xauto_dds
