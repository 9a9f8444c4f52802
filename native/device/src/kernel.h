// Kernel descriptors: what a launch touches, stated up front so every launch can be checked
// (bounds), classified (idempotent or not) and, later, checkpointed, without running it.
//
// A parameter is a scalar or a buffer pointer. A buffer parameter declares its access
// (in / out / inout) and its extent relative to the pointer:
//     bytes = count == 0 ? 0 : ((count - 1) * stride + 1) * elem
// where count is a product of terms (constants or integer scalar arguments) and stride a
// term. Strided extents are the covering interval: a superset, so overlap checks stay
// conservative (no false "idempotent"). An `inout` buffer may be read only when a scalar
// is non-zero (GEMM reads C only when beta != 0), written only when a scalar is non-zero
// (running statistics outside training), or touched at all only when a scalar is non-zero.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xdev {

constexpr int kMaxParams = 16;

enum Access : uint8_t { kIn = 1, kOut = 2, kInOut = 3 };

enum SideEffect : uint32_t {
  kNoSideEffects = 0,
  kAtomics = 1u << 0,      // read-modify-write with atomics: never idempotent
  kRngState = 1u << 1,     // advances a random generator state
  kHostVisible = 1u << 2,  // writes the host may observe before completion: cannot be undone
};

// A factor of an extent: a constant, or the value of an integer scalar parameter.
struct Term {
  int param = -1;  // scalar parameter index, or -1 for a constant
  uint64_t value = 1;
  static Term c(uint64_t v) { return Term{-1, v}; }
  static Term p(int i) { return Term{i, 0}; }
};

struct ParamSpec {
  std::string name;
  bool is_buffer = false;
  // scalar
  bool is_int = false;
  int64_t min = 0;  // integers: smallest accepted value
  // buffer
  Access access = kIn;
  uint32_t elem = 4;         // bytes per element (also the required pointer alignment)
  std::vector<Term> count;   // product
  Term stride = Term::c(1);  // in elements
  int read_if_nonzero = -1;  // inout read only when this scalar is non-zero
  int write_if_nonzero = -1;   // inout written only when this scalar is non-zero (else only read)
  int active_if_nonzero = -1;  // neither read nor written when this scalar is zero
  // Element-wise select: element i written here is either element i of buffer param
  // `select_of` as read (unchanged) or a value computed without reading either buffer.
  int select_of = -1;
  std::string type;          // element type for documentation: f32, u8, u32, u64, xyz
};

struct Args;
using BlockFn = void (*)(const Args&, uint32_t block);
using RefFn = void (*)(const Args&);
using GridFn = uint32_t (*)(const Args&);

struct KernelDesc {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  uint32_t side_effects = kNoSideEffects;
  GridFn grid;
  BlockFn block;  // one block of the grid: the unit a launch can be stopped between
  RefFn reference;  // plain sequential implementation, for tests
  // derived at registration
  int slots = 0;                // Float64 slots of a packed argument list
  uint32_t key_scalars = 0;     // scalars that decide access sets (part of the cache key)
  uint32_t zero_scalars = 0;    // scalars whose zero-ness decides a read
};

// Resolved arguments of one launch: raw pointers and scalar values by parameter index.
struct Args {
  const KernelDesc* k = nullptr;
  uint8_t* ptr[kMaxParams] = {};
  double s[kMaxParams] = {};
  template <typename T>
  T* p(int i) const { return reinterpret_cast<T*>(ptr[i]); }
  int64_t i(int idx) const { return int64_t(s[idx]); }
  float f(int idx) const { return float(s[idx]); }
};

const std::vector<KernelDesc>& kernel_library();
int find_kernel(const std::string& name);

}  // namespace xdev
