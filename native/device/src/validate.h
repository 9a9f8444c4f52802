// The launch path: packed JS arguments -> resolved arguments, the instance's access sets
// (byte ranges per root allocation, aliases and interior pointers resolved) and the
// instance-level idempotency decision, cached per (kernel, argument signature).
//
// Decision rule (sound by construction, so zero false positives given honest descriptors):
// an instance is idempotent iff its kernel declares no side effects and no byte range it
// writes intersects a byte range it reads. Anything else is "not idempotent".
//
// Why that is sound, and the rules that decide the ranges (each holds whatever the contents
// of memory, so each is exact or a superset of what the kernel can touch):
// 1. Ranges are absolute byte intervals in the root allocation: views (alias handles) and
//    interior pointers into one pool resolve to the same root, so two arguments carved out of
//    one caching-allocator block are compared byte for byte, never by handle.
// 2. Scalar conditions known at launch: a buffer declared `active_if_nonzero` s is neither
//    read nor written when s == 0, so it contributes no range (act_inplace with the
//    identity, sgd's weights at lr = 0, its velocity at momentum = 0).
// 3. An inout buffer declared `write_if_nonzero` s is only read when s == 0 (batchnorm's
//    running statistics outside training); one declared `read_if_nonzero` s is only written
//    when s == 0 (GEMM's C at beta = 0). Zero-ness of these scalars is part of the cache key.
// 4. An `out` buffer is never read, except a workspace that each item reads only where it
//    wrote earlier in the same run (softmax_rows' ws): a relaunch rewrites it before reading
//    it, so it counts as written only.
// 5. A written buffer declared `select_of` b (relu_backward's dx of dy, masked_fill's x of
//    itself) takes at each element either b's value at that element as read, or a value
//    computed without reading b or itself. When it covers exactly b's bytes (same begin and
//    end: element i over element i), that one overlap is harmless: where an interrupted run
//    changed an element, the relaunch overwrites it without reading it; elsewhere (an
//    interrupted run changes only elements an uninterrupted one changes) it reads the
//    initial value again. Any other overlap (a shifted alias, the condition's inputs)
//    still counts.
// Then (rule 5 aside) no read of the relaunch can see a byte that any (partial, possibly
// garbled) earlier run wrote, so the relaunch computes the same values from the same inputs
// and rewrites every byte the earlier run wrote: the final memory equals that of an
// uninterrupted run.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel.h"
#include "memory.h"

namespace xdev {

struct Range {
  double buffer;  // root allocation handle
  uint32_t slot, gen;
  uint64_t begin, end;  // absolute byte offsets in the root allocation
  int param;
};

struct AccessSets {
  Range reads[kMaxParams];
  Range writes[kMaxParams];
  int nr = 0, nw = 0;
};

// Why an instance is not idempotent (for reports and tests).
enum Reason : int { kIdempotent = 0, kSideEffects = 1, kOverlap = 2 };

struct Decision {
  AccessSets sets;
  bool idempotent = false;
  int reason = kIdempotent;
  int write_param = -1, read_param = -1;  // first overlapping pair when reason == kOverlap
};

struct Prepared {
  int kernel = -1;
  Args args;
  std::shared_ptr<Allocation> holds[kMaxParams];
  int nholds = 0;
  uint32_t grid = 0;
  std::shared_ptr<const Decision> dec;  // shared with the decision cache
  const Decision& d() const { return *dec; }
};

struct ValidateStats {
  uint64_t count = 0, cache_hits = 0;
  uint64_t max_ns = 0;
  double sum_ns = 0;
  double percentile_ns(double q) const;
  void record(uint64_t ns);
  static constexpr int kBucketNs = 10;
  static constexpr int kBuckets = 10000;  // 10 ns resolution up to 100 us
  std::vector<uint32_t> hist = std::vector<uint32_t>(kBuckets + 1, 0);
  void reset() { *this = ValidateStats(); }
};

class Validator {
 public:
  // Buckets for every entry up front: no rehash (a pause of all entries) on the launch path.
  Validator() { cache_.reserve(kMaxEntries); }
  // Resolves, bounds-checks, extracts access sets and decides. Returns "" or an error that
  // names the kernel, the argument and what was expected.
  std::string prepare(const MemoryTable& mem, int kernel, const double* packed, size_t n, Prepared* out);
  ValidateStats stats;
  size_t cache_size() const { return entries_; }

 private:
  struct Entry {
    std::vector<uint64_t> key;
    std::shared_ptr<const Decision> d;
  };
  std::string compute(const Prepared& p, const uint64_t* abs, const uint64_t* limit, const Resolved* res, Decision* d);
  std::unordered_map<uint64_t, std::vector<Entry>> cache_;
  size_t entries_ = 0;
  static constexpr size_t kMaxEntries = 16384;
};

}  // namespace xdev
