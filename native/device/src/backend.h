// The backend boundary: where device memory lives and how a launch's blocks run.
// Everything above it (memory table, validator, scheduler, preemption) is backend-neutral.
// Backends: `host` (device memory is host memory, blocks are C++ calls on the device
// threads; always built) and `cuda` (backend_cuda.cu: cudaMalloc'd memory, the same kernel
// ops as CUDA kernels on prioritised CUDA streams; built when nvcc is present, chosen at run
// time only when a CUDA device is found: see backend_select.cc).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernel.h"

namespace xdev {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Zero-filled, 64-byte aligned; nullptr when out of memory.
  virtual uint8_t* alloc(size_t bytes) = 0;
  // Not zero-filled: for memory overwritten in full before anything reads it (a restore, whose
  // chunks load before any launch or host access touches them). Default: alloc().
  virtual uint8_t* alloc_uninit(size_t bytes) { return alloc(bytes); }
  virtual void release(uint8_t* p) = 0;
  virtual void to_device(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  virtual void to_host(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  // Copy inside device memory (snapshots of ranges a launch will overwrite).
  virtual void copy(uint8_t* dst, const uint8_t* src, size_t n) = 0;
  // Asynchronous copies between device memory and host memory on the backend's copy stream
  // (the checkpoint engine's transfers); copy_fence() returns once all of them are done.
  virtual void to_host_async(uint8_t* dst, const uint8_t* src, size_t n) { to_host(dst, src, n); }
  virtual void to_device_async(uint8_t* dst, const uint8_t* src, size_t n) { to_device(dst, src, n); }
  virtual void copy_fence() {}
  // One block of a launch, synchronously (tests and the brute-force idempotency check).
  virtual void run_block(const KernelDesc& k, const Args& a, uint32_t block) = 0;
  // Blocks [0, grid) of a launch at stream priority `priority` (higher is more urgent). Stops
  // early once `kill` is set: blocks not started then never run. Returns the blocks that ran
  // (grid when the launch completed). The host backend checks `kill` between blocks.
  virtual uint32_t run(const KernelDesc& k, const Args& a, uint32_t grid, int priority, const std::atomic<bool>& kill) {
    (void)priority;
    uint32_t b = 0;
    for (; b < grid; ++b) {
      if (kill.load(std::memory_order_relaxed)) break;
      run_block(k, a, b);
    }
    return b;
  }
  // The kernel's plain sequential reference on the launch's buffers.
  virtual void run_reference(const KernelDesc& k, const Args& a) { k.reference(a); }
};

Backend& host_backend();

// The backend this process uses: cuda when built and a CUDA device is found (unless
// XAUTO_DEVICE_BACKEND=host), else host. `note` says why, in one line.
Backend& default_backend();
const std::string& backend_note();
bool cuda_built();

// Defined in backend_cuda.cu when built with CUDA: the backend, or nullptr with `why` set.
Backend* cuda_backend(std::string* why);

}  // namespace xdev
