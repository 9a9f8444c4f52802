#include <cstdlib>
#include <cstring>

#include "backend.h"

namespace xdev {
namespace {

class HostBackend final : public Backend {
 public:
  const char* name() const override { return "host"; }
  uint8_t* alloc(size_t bytes) override {
    size_t rounded = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (p) std::memset(p, 0, rounded);
    return p;
  }
  uint8_t* alloc_uninit(size_t bytes) override {
    // Untouched pages cost nothing until loaded: a restore's metadata step stays O(handles).
    return static_cast<uint8_t*>(std::aligned_alloc(64, bytes == 0 ? 64 : (bytes + 63) / 64 * 64));
  }
  void release(uint8_t* p) override { std::free(p); }
  void to_device(uint8_t* dst, const uint8_t* src, size_t n) override { std::memmove(dst, src, n); }
  void to_host(uint8_t* dst, const uint8_t* src, size_t n) override { std::memmove(dst, src, n); }
  void copy(uint8_t* dst, const uint8_t* src, size_t n) override { std::memmove(dst, src, n); }
  void run_block(const KernelDesc& k, const Args& a, uint32_t block) override { k.block(a, block); }
};

}  // namespace

Backend& host_backend() {
  static HostBackend b;
  return b;
}

}  // namespace xdev
