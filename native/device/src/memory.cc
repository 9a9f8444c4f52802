#include "memory.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace xdev {

Allocation::Allocation(Backend* backend_, uint32_t index_, uint32_t gen_, size_t bytes_)
    : index(index_), gen(gen_), bytes(bytes_), backend(backend_), data(backend_->alloc(bytes_)) {}

Allocation::~Allocation() {
  if (data) backend->release(data);
}

static bool is_index(double v, double max) { return std::isfinite(v) && v >= 0 && v <= max && std::floor(v) == v; }

std::string MemoryTable::describe(double handle) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "buffer handle %.0f", handle);
  return buf;
}

std::string MemoryTable::take_slot(uint32_t* index) {
  if (!free_.empty()) {
    *index = free_.back();
    free_.pop_back();
    return "";
  }
  if (slots_.size() >= size_t(kSlotSpan) - 1) return "too many live buffers";
  slots_.emplace_back();
  *index = uint32_t(slots_.size() - 1);
  return "";
}

std::string MemoryTable::alloc(double bytes, double* handle) {
  if (!is_index(bytes, double(kMaxBytes))) return "alloc: expected a byte count between 0 and 2^34";
  uint32_t i;
  std::string err = take_slot(&i);
  if (!err.empty()) return err;
  Slot& s = slots_[i];
  auto a = std::make_shared<Allocation>(backend_, i, s.gen, size_t(bytes));
  if (!a->data) {
    free_.push_back(i);
    return "alloc: out of device memory";
  }
  s.used = true;
  s.is_view = false;
  s.root = std::move(a);
  s.base = 0;
  s.bytes = size_t(bytes);
  *handle = double(s.gen) * kSlotSpan + double(i);
  ++live_;
  live_bytes_ += s.bytes;
  return "";
}

std::string MemoryTable::view(double parent, double offset, double bytes, double* handle) {
  Resolved p;
  std::string err = resolve(parent, &p);
  if (!err.empty()) return err;
  if (!is_index(offset, double(p.bytes)) || !is_index(bytes, double(p.bytes)) || offset + bytes > double(p.bytes)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "view: range [%.0f, %.0f) is outside the parent's %zu bytes", offset, offset + bytes, p.bytes);
    return buf;
  }
  uint32_t i;
  err = take_slot(&i);
  if (!err.empty()) return err;
  Slot& s = slots_[i];
  s.used = true;
  s.is_view = true;
  s.root = p.root->shared_from_this();
  s.base = p.base + size_t(offset);
  s.bytes = size_t(bytes);
  *handle = double(s.gen) * kSlotSpan + double(i);
  ++live_;
  return "";
}

std::string MemoryTable::resolve(double handle, Resolved* out) const {
  if (!std::isfinite(handle) || handle < 0 || std::floor(handle) != handle) return "expected a buffer handle";
  double gen = std::floor(handle / kSlotSpan);
  double idx = handle - gen * kSlotSpan;
  if (idx >= double(slots_.size())) return describe(handle) + " is not a buffer of this device";
  const Slot& s = slots_[size_t(idx)];
  if (!s.used || double(s.gen) != gen) return describe(handle) + " was freed";
  if (s.root->freed) return describe(handle) + " is a view of a freed buffer";
  out->root = s.root.get();
  out->base = s.base;
  out->bytes = s.bytes;
  return "";
}

std::string MemoryTable::release(double handle) {
  Resolved r;
  std::string err = resolve(handle, &r);
  if (!err.empty()) return err;
  uint32_t idx = uint32_t(handle - std::floor(handle / kSlotSpan) * kSlotSpan);
  Slot& s = slots_[idx];
  if (!s.is_view) {
    s.root->freed = true;
    live_bytes_ -= s.bytes;
    // Views die with their root: their handles become stale too.
    for (uint32_t v = 0; v < slots_.size(); ++v) {
      Slot& o = slots_[v];
      if (!o.used || !o.is_view || o.root != s.root) continue;
      o.root.reset();
      o.used = false;
      o.gen = o.gen + 1 >= (1u << 28) ? 1 : o.gen + 1;
      free_.push_back(v);
      --live_;
    }
  }
  s.root.reset();  // memory goes when the last launch holding it finishes
  s.used = false;
  s.gen = s.gen + 1 >= (1u << 28) ? 1 : s.gen + 1;
  free_.push_back(idx);
  --live_;
  return "";
}

void MemoryTable::clear() {
  for (auto& s : slots_) {
    if (s.used && !s.is_view) s.root->freed = true;
    s.root.reset();
    s.used = false;
  }
  live_ = live_bytes_ = 0;
}

}  // namespace xdev
