// Monotonic clock shared by the device parts (validation latency, launch timestamps).
#pragma once
#include <time.h>
#include <cstdint>

namespace xdev {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Ticks for measuring sub-microsecond intervals on the launch path. clock_gettime costs
// ~100 ns under a paravirtual clock, as much as what is being measured; an invariant TSC
// (constant_tsc + nonstop_tsc) is monotonic and costs a few ns. Falls back to now_ns().
struct TickClock {
  bool tsc = false;
  double ns_per_tick = 1.0;
  TickClock();
  uint64_t ticks() const;
  uint64_t to_ns(uint64_t t) const { return uint64_t(double(t) * ns_per_tick); }
};
const TickClock& tick_clock();

}  // namespace xdev
