// xauto_dds: Cyclone DDS (0.10.x) for the TypeScript ROS2 layer. Topics use the raw-CDR
// serializer type (raw_cdr.h); data and status events reach JavaScript through thread-safe
// functions fired from Cyclone's listener threads (no polling, unless busy polling is asked
// for). By concern: entities.cc (create/delete, QoS, teardown), listeners.cc (Cyclone
// callbacks), reader.cc (samples into JS), writer.cc (samples out), discovery.cc (the graph as
// DDS sees it), busy_poll.cc (the JS thread's loop polling after writes, opt-in).
#include "dds/version.h"
#include "endpoint.h"

namespace xauto_dds {

std::mutex g_mu;
std::unordered_map<dds_entity_t, RawSertype *> g_topic_types;
std::unordered_map<dds_entity_t, Endpoint *> g_endpoints;
std::unordered_map<dds_entity_t, Builtin> g_discovery;

Napi::Value Fail(Napi::Env env, const std::string &what, dds_return_t rc) {
  Napi::Error::New(env, "xauto dds: " + what + ": " + dds_strretcode(rc)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Fail(Napi::Env env, const std::string &what) {
  Napi::TypeError::New(env, "xauto dds: " + what).ThrowAsJavaScriptException();
  return env.Undefined();
}

Endpoint *FindEndpoint(dds_entity_t e) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_endpoints.find(e);
  return it == g_endpoints.end() ? nullptr : it->second;
}

Endpoint *EndpointArg(const Napi::CallbackInfo &info) {
  return info[0].IsNumber() ? FindEndpoint(info[0].As<Napi::Number>().Int32Value()) : nullptr;
}

namespace {

Napi::Value Version(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), DDS_VERSION); }

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
  exports.Set("loan", Napi::Function::New(env, Loan));
  exports.Set("commit", Napi::Function::New(env, Commit));
  exports.Set("matched", Napi::Function::New(env, Matched));
  exports.Set("acked", Napi::Function::New(env, Acked));
  exports.Set("malformed", Napi::Function::New(env, Malformed));
  exports.Set("timing", Napi::Function::New(env, Timing));
  exports.Set("overwritten", Napi::Function::New(env, Overwritten));
  exports.Set("relay", Napi::Function::New(env, Relay));
  exports.Set("deleteEndpoint", Napi::Function::New(env, DeleteEndpoint));
  exports.Set("deleteEntity", Napi::Function::New(env, DeleteEntity));
  exports.Set("endpoints", Napi::Function::New(env, Endpoints));
  exports.Set("busyPoll", Napi::Function::New(env, BusyPoll));
  exports.Set("busyPollTurns", Napi::Function::New(env, BusyPollTurns));
  exports.Set("busyPollWrites", Napi::Function::New(env, BusyPollWrites));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown));
  exports.Set("version", Napi::Function::New(env, Version));
  // Never freed: thread-safe-function calls still drained after the cleanup hook read it.
  EnvState *es = new EnvState();
  napi_set_instance_data(env, es, nullptr, nullptr);
  napi_add_env_cleanup_hook(env, Cleanup, es);
  return exports;
}


}  // namespace
}  // namespace xauto_dds

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return xauto_dds::Init(env, exports); }

NODE_API_MODULE(xauto_dds, InitAddon)
