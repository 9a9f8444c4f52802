// The launch path: packed JS arguments -> resolved arguments, the instance's access sets
// (byte ranges per root allocation, aliases and interior pointers resolved) and the
// instance-level idempotency decision, cached per (kernel, argument signature).
//
// Decision rule (sound by construction, so zero false positives given honest descriptors):
// an instance is idempotent iff its kernel declares no side effects and no byte range it
// writes intersects a byte range it reads. Anything else is "not idempotent".
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
