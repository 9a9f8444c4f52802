// Device memory: allocations addressed by handles. A handle names either a root allocation
// or a view (an alias of a byte range of a root allocation). Handles carry a generation, so
// a freed handle is detected instead of silently reaching reused memory. Launches hold a
// shared_ptr to each root they touch, so freeing a buffer while work on it is queued or
// running never frees the memory under the device threads.
//
// The table is used from the JS thread only (alloc/free/resolve happen on launch calls);
// device threads only see resolved raw pointers kept alive by those shared_ptrs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"

namespace xdev {

// Storage of one root allocation. The backend boundary: a `host` backend keeps it in host
// memory; a device backend would keep a device pointer here instead.
struct Allocation : std::enable_shared_from_this<Allocation> {
  uint32_t index;  // slot of the root handle
  uint32_t gen;
  size_t bytes;
  Backend* backend;
  uint8_t* data;
  bool freed = false;  // root freed by the user (views become invalid too)
  // `zero`: zero-filled (alloc), else left as it is (restores: every chunk is loaded before use).
  Allocation(Backend* backend, uint32_t index, uint32_t gen, size_t bytes, bool zero = true);
  ~Allocation();
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;
};

// A handle resolved to its root allocation: [base, base + bytes) inside root.
struct Resolved {
  Allocation* root = nullptr;  // kept alive by the table; take shared_from_this() to hold it
  size_t base = 0;
  size_t bytes = 0;
};

// One live handle as a checkpoint image records it (a root allocation or a view of one).
struct SlotImage {
  uint32_t index, gen;
  bool is_view;
  uint32_t root_index;  // views: slot of their root
  size_t base, bytes;
};

// Host reads and writes of device memory go through this when set: checkpoint/restore
// copies a chunk before a host write changes it, and loads a chunk before a host access.
struct HostAccessHook {
  virtual ~HostAccessHook() = default;
  virtual void before_host_access(const Resolved& r, size_t offset, size_t n, bool write) = 0;
  virtual void cleared() = 0;  // the device closed: let go of its memory
};

class MemoryTable {
 public:
  explicit MemoryTable(Backend& backend) : backend_(&backend) {}
  Backend& backend() const { return *backend_; }
  // Handles are doubles (exact up to 2^53): gen * 2^24 + slot.
  static constexpr double kSlotSpan = 16777216.0;
  static constexpr size_t kMaxBytes = size_t(1) << 34;  // 16 GiB per allocation

  // Each returns an empty string on success, else a message saying what was wrong.
  std::string alloc(double bytes, double* handle);
  std::string view(double parent, double offset, double bytes, double* handle);
  std::string release(double handle);
  std::string resolve(double handle, Resolved* out) const;
  // Root handle of an allocation (what access sets report, aliases resolved).
  static double root_handle(const Allocation& a) { return double(a.gen) * kSlotSpan + double(a.index); }
  size_t live() const { return live_; }
  size_t live_bytes() const { return live_bytes_; }
  void clear();
  // Checkpoint/restore: the live handles, roots with their storage; and recreating handles
  // with the same numbers in an empty table (all or nothing).
  void slots(std::vector<SlotImage>* out, std::vector<std::shared_ptr<Allocation>>* roots) const;
  std::string adopt(const std::vector<SlotImage>& image, std::vector<std::shared_ptr<Allocation>>* roots);
  std::shared_ptr<HostAccessHook> host_hook;

 private:
  struct Slot {
    uint32_t gen = 1;
    bool used = false;
    std::shared_ptr<Allocation> root;
    size_t base = 0, bytes = 0;
    bool is_view = false;
  };
  std::string take_slot(uint32_t* index);
  std::string describe(double handle) const;
  Backend* backend_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0, live_bytes_ = 0;
};

}  // namespace xdev
