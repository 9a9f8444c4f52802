#include "memory.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace xdev {

Allocation::Allocation(Backend* backend_, uint32_t index_, uint32_t gen_, size_t bytes_, bool zero)
    : index(index_), gen(gen_), bytes(bytes_), backend(backend_), data(zero ? backend_->alloc(bytes_) : backend_->alloc_uninit(bytes_)) {}

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
  if (host_hook) host_hook->cleared();
  for (auto& s : slots_) {
    if (s.used && !s.is_view) s.root->freed = true;
    s.root.reset();
    s.used = false;
  }
  live_ = live_bytes_ = 0;
}

void MemoryTable::slots(std::vector<SlotImage>* out, std::vector<std::shared_ptr<Allocation>>* roots) const {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.used || s.root->freed) continue;
    out->push_back(SlotImage{i, s.gen, s.is_view, s.root->index, s.base, s.bytes});
    if (!s.is_view && roots) roots->push_back(s.root);
  }
}

std::string MemoryTable::adopt(const std::vector<SlotImage>& image, std::vector<std::shared_ptr<Allocation>>* roots) {
  if (live_ != 0) return "restore: the device already has live buffers (restore into a fresh device)";
  uint32_t top = 0;
  for (const auto& im : image) {
    if (im.index >= uint32_t(kSlotSpan) - 1 || im.gen == 0 || im.gen >= (1u << 28)) return "restore: a handle outside the handle space";
    if (!im.is_view && im.bytes > kMaxBytes) return "restore: an allocation larger than 2^34 bytes";
    top = std::max(top, im.index + 1);
  }
  std::vector<Slot> next(std::max<size_t>(slots_.size(), top));
  for (size_t i = 0; i < slots_.size(); ++i) next[i].gen = slots_[i].gen;
  std::vector<std::shared_ptr<Allocation>> made;
  for (const auto& im : image) {
    if (im.is_view) continue;
    Slot& s = next[im.index];
    if (s.used) return "restore: two buffers with one handle";
    auto a = std::make_shared<Allocation>(backend_, im.index, im.gen, im.bytes, false);
    if (!a->data) return "restore: out of device memory";
    s = Slot{im.gen, true, a, 0, im.bytes, false};
    made.push_back(std::move(a));
  }
  for (const auto& im : image) {
    if (!im.is_view) continue;
    Slot& s = next[im.index];
    const Slot* r = im.root_index < next.size() ? &next[im.root_index] : nullptr;
    if (s.used) return "restore: two buffers with one handle";
    if (!r || !r->used || r->is_view || im.base + im.bytes > r->bytes) return "restore: a view outside its root allocation";
    s = Slot{im.gen, true, r->root, im.base, im.bytes, true};
  }
  // Nothing failed: the new table replaces the (empty) old one.
  slots_ = std::move(next);
  free_.clear();
  live_ = live_bytes_ = 0;
  for (uint32_t i = uint32_t(slots_.size()); i-- > 0;) {
    if (!slots_[i].used) {
      free_.push_back(i);
      continue;
    }
    ++live_;
    if (!slots_[i].is_view) live_bytes_ += slots_[i].bytes;
  }
  *roots = std::move(made);
  return "";
}

}  // namespace xdev
