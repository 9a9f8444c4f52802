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

}  // namespace xdev
