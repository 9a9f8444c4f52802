// The backend boundary: where device memory lives and how one block of a kernel runs.
// Everything above it (memory table, validator, scheduler, preemption) is backend-neutral.
// `host` is the only backend built: device memory is host memory and blocks are C++ calls
// on the device threads. A `cuda` backend would implement the same interface (device
// allocations, copies over PCIe, blocks launched as grid slices).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernel.h"

namespace xdev {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Zero-filled, 64-byte aligned; nullptr when out of memory.
  virtual uint8_t* alloc(size_t bytes) = 0;
  virtual void release(uint8_t* p) = 0;
  virtual void to_device(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  virtual void to_host(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  // Copy inside device memory (snapshots of ranges a launch will overwrite).
  virtual void copy(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  virtual void run_block(const KernelDesc& k, const Args& a, uint32_t block) = 0;
};

Backend& host_backend();

}  // namespace xdev
