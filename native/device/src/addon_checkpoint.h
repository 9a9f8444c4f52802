// N-API face of checkpoint/restore (addon_checkpoint.cc), registered by addon.cc. It reaches a
// device's memory table and scheduler through `DevicePartsFn`, so addon.cc stays unaware of it.
#pragma once
#include <napi.h>

#include <memory>

#include "memory.h"
#include "scheduler.h"

namespace xdev {

struct DeviceParts {
  std::shared_ptr<void> keep;  // keeps the device's core alive while a checkpointer uses it
  MemoryTable* mem = nullptr;
  Scheduler* sched = nullptr;
  const bool* closed = nullptr;
};
using DevicePartsFn = bool (*)(const Napi::Value& device, DeviceParts* out);

void register_checkpoint(Napi::Env env, Napi::Object exports, DevicePartsFn parts);

}  // namespace xdev
