// What the builtin discovery readers saw: every publication and subscription, with its QoS.
#include "endpoint.h"

namespace xauto_dds {

namespace {

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

}  // namespace

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


}  // namespace xauto_dds
