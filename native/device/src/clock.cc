#include "clock.h"

#include <fstream>
#include <string>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace xdev {

static bool invariant_tsc() {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      auto has = [&](const char* f) { return line.find(std::string(" ") + f + " ") != std::string::npos || line.find(std::string(" ") + f) == line.size() - std::string(f).size() - 1; };
      return has("constant_tsc") && has("nonstop_tsc");
    }
  }
#endif
  return false;
}

TickClock::TickClock() {
  tsc = invariant_tsc();
#if defined(__x86_64__)
  if (tsc) {
    // Calibrate against the monotonic clock over ~5 ms.
    uint64_t n0 = now_ns(), t0 = __rdtsc();
    while (now_ns() - n0 < 5000000) {
    }
    uint64_t n1 = now_ns(), t1 = __rdtsc();
    ns_per_tick = t1 > t0 ? double(n1 - n0) / double(t1 - t0) : 1.0;
    if (!(ns_per_tick > 0.01 && ns_per_tick < 10)) tsc = false, ns_per_tick = 1.0;
  }
#endif
}

uint64_t TickClock::ticks() const {
#if defined(__x86_64__)
  if (tsc) return __rdtsc();
#endif
  return now_ns();
}

const TickClock& tick_clock() {
  static const TickClock c;
  return c;
}

}  // namespace xdev
