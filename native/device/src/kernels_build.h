// Helpers for declaring kernels of the library: parameter builders, and the host backend's
// block and reference functions made from an op (kernels_ops.h).
#pragma once
#include <algorithm>
#include <vector>

#include "kernel.h"
#include "kernels_ops.h"

namespace xdev {
namespace kb {

inline ParamSpec F(const char* name) {
  ParamSpec p;
  p.name = name;
  return p;
}
inline ParamSpec I(const char* name, int64_t min = 0) {
  ParamSpec p;
  p.name = name;
  p.is_int = true;
  p.min = min;
  return p;
}
inline ParamSpec B(const char* name, Access acc, const char* type, uint32_t elem, std::vector<Term> count, Term stride = Term::c(1)) {
  ParamSpec p;
  p.name = name;
  p.is_buffer = true;
  p.access = acc;
  p.type = type;
  p.elem = elem;
  p.count = std::move(count);
  p.stride = stride;
  return p;
}
inline Term P(int i) { return Term::p(i); }
inline Term C(uint64_t v) { return Term::c(v); }

// Block b of an op on the host: its items one after another.
template <typename Op>
void host_block(const Args& a, uint32_t b) {
  const int64_t per = Op::per(a);
  if (per <= 0) return;
  const int64_t s = int64_t(b) * per, e = std::min<int64_t>(Op::items(a), s + per);
  for (int64_t i = s; i < e; ++i) Op::item(a, i);
}
template <typename Op>
uint32_t host_grid(const Args& a) {
  return ops::grid_of<Op>(a);
}
// Every item in order: the plain reference of ops whose items are independent.
template <typename Op>
void items_in_order(const Args& a) {
  for (int64_t i = 0, n = Op::items(a); i < n; ++i) Op::item(a, i);
}

}  // namespace kb

// Grid and block functions of an op, in KernelDesc's order.
#define HOST(Op) ::xdev::kb::host_grid<::xdev::ops::Op>, ::xdev::kb::host_block<::xdev::ops::Op>

// Perception kernels (kernels_perception.cc), appended to the library.
void add_perception_kernels(std::vector<KernelDesc>& L);
// Application kernels (kernels_apps.cc): training and inference around the GEMMs.
void add_app_kernels(std::vector<KernelDesc>& L);

}  // namespace xdev
