// Writing CDR samples, and a writer's match and acknowledgement state.
#include <cstring>
#include <unordered_set>

#include "endpoint.h"

namespace xauto_dds {

namespace {

// Samples lent and not yet committed (any JS thread): commit() takes only these.
std::mutex loans_mu;
std::unordered_set<const RawSerdata *> loans;

// A loan's ArrayBuffer holds one reference to its sample; GC (or the detach at commit) lets go.
void FinalizeLoan(Napi::Env, void *, RawSerdata *sd) {
  {
    std::lock_guard<std::mutex> lk(loans_mu);
    loans.erase(sd);
  }
  ddsi_serdata_unref(&sd->c);
}

}  // namespace

// loan(writer, size) -> a Uint8Array of `size` bytes that is a DDS sample's own memory: the
// caller serializes into it and hands it to commit(), so a large message is written once, not
// serialized into a buffer and then copied. Ownership: the bytes are the caller's until
// commit(), which detaches them (the Uint8Array reads as empty afterwards and can no longer
// touch the sample Cyclone is sending). A loan never committed is freed by GC.
Napi::Value Loan(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep || ep->is_reader) return Fail(env, "loan: not a writer handle");
  if (!info[1].IsNumber()) return Fail(env, "loan(writer, size)");
  const double n = info[1].As<Napi::Number>().DoubleValue();
  if (!(n >= 4 && n <= double(UINT32_MAX - 8))) return Fail(env, "loan: size out of range");
  RawSerdata *sd = alloc_raw_serdata(static_cast<uint32_t>(n));
  if (!sd) return Fail(env, "loan: out of memory");
  ddsi_serdata_init(&sd->c, &ep->type->c, SDK_DATA);
  sd->c.hash = ep->type->c.serdata_basehash;
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sd->bytes(), sd->size, FinalizeLoan, sd);
  {
    std::lock_guard<std::mutex> lk(loans_mu);
    loans.insert(sd);
  }
  return Napi::Uint8Array::New(env, sd->size, ab, 0);
}

// Hands a finished sample to Cyclone (which takes our reference) and times the send.
static Napi::Value Send(Napi::Env env, Endpoint *ep, RawSerdata *sd) {
  sd->c.timestamp.v = dds_time();
  const uint64_t t0 = NowNs();
  dds_return_t rc = dds_writecdr(ep->entity, &sd->c);
  const uint64_t t1 = NowNs();
  ep->wake_us[ep->wake_n++ % Endpoint::kTimings] = float(t1 - t0) / 1000.0f;  // writers: send times
  ep->es->write_end_ns = t1;
  KeepPolling(ep->es);  // a reply may come: take it without a wake-up (when enabled)
  if (rc < 0) return Fail(env, "write failed", rc);
  return env.Undefined();
}

// commit(writer, loan: Uint8Array from loan(), length): sends the loan's first `length` bytes.
Napi::Value Commit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Endpoint *ep = EndpointArg(info);
  if (!ep || ep->is_reader) return Fail(env, "commit: not a writer handle");
  if (!info[1].IsTypedArray() || !info[2].IsNumber()) return Fail(env, "commit(writer, loan: Uint8Array, length)");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  uint8_t *data = static_cast<uint8_t *>(ab.Data());
  if (!data || ta.ByteOffset() != 0) return Fail(env, "commit: not a loan (or committed already)");
  const double n = info[2].As<Napi::Number>().DoubleValue();
  RawSerdata *sd = reinterpret_cast<RawSerdata *>(data) - 1;  // only read once known to be a loan
  {
    std::lock_guard<std::mutex> lk(loans_mu);
    if (!loans.count(sd)) return Fail(env, "commit: not a loan (or committed already)");
    if (ab.ByteLength() != sd->size || sd->c.type != &ep->type->c) return Fail(env, "commit: not a loan of this writer");
    // A call that names no valid length leaves the loan the caller's.
    if (!(n >= 0 && n <= static_cast<double>(sd->size))) return Fail(env, "commit: length beyond the loan");
    loans.erase(sd);
  }
  const uint32_t len = static_cast<uint32_t>(n);
  // From here the loan is spent, sent or not: the caller may not reuse it.
  // Our reference goes to Cyclone; the ArrayBuffer's is released when its finalizer runs.
  ddsi_serdata_ref(&sd->c);
  if (napi_detach_arraybuffer(env, ab) != napi_ok) {
    ddsi_serdata_unref(&sd->c);
    return Fail(env, "commit: cannot detach the loan");
  }
  if (!valid_encapsulation(data, len)) {
    ddsi_serdata_unref(&sd->c);
    return Fail(env, "commit: bytes do not start with a CDR encapsulation header");
  }
  finish_raw_serdata(sd, len);
  return Send(env, ep, sd);
}

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
  return Send(env, ep, sd);
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
