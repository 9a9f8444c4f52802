// Run-time choice of the backend: cuda only when it was built and a CUDA device answers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "backend.h"

namespace xdev {
namespace {
std::once_flag once;
Backend* chosen = nullptr;
std::string note;

void choose() {
  const char* force = std::getenv("XAUTO_DEVICE_BACKEND");
  if (!cuda_built()) {
    chosen = &host_backend();
    note = "host backend (built without CUDA: no nvcc at build time)";
    return;
  }
  if (force && std::strcmp(force, "host") == 0) {
    chosen = &host_backend();
    note = "host backend (XAUTO_DEVICE_BACKEND=host)";
    return;
  }
  std::string why;
  Backend* c = cuda_backend(&why);
  if (c) {
    chosen = c;
    note = "cuda backend (" + why + ")";
  } else {
    chosen = &host_backend();
    note = "host backend (CUDA backend built, but " + why + ")";
    std::fprintf(stderr, "[xauto device] %s\n", note.c_str());
  }
}
}  // namespace

Backend& default_backend() {
  std::call_once(once, choose);
  return *chosen;
}

const std::string& backend_note() {
  std::call_once(once, choose);
  return note;
}

#ifndef XDEV_CUDA
bool cuda_built() { return false; }
Backend* cuda_backend(std::string* why) {
  *why = "not built";
  return nullptr;
}
#else
bool cuda_built() { return true; }
#endif

}  // namespace xdev
