// The reference system's workload: number_cruncher(limit) counts the primes in [2, limit] by
// trial division by every smaller number (deliberately no square-root bound), so its cost
// grows ~ limit^2 / log(limit) and is set per node by the limit alone. Limits of 2 or less
// return 2, as the reference does. The same computation runs in C++ in native/core (crunch.cc).
import { performance } from 'node:perf_hooks';

export function numberCruncher(limit: number): number {
  if (limit <= 2) return 2;
  let primes = 0;
  for (let i = 2; i <= limit; i++) {
    let prime = true;
    for (let n = 2; n < i; n++) {
      if (i % n === 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes++;
  }
  return primes;
}

/** Wall time of one numberCruncher(limit) call in ms (get_crunch_time_in_ms). */
export function crunchTimeMs(limit: number, crunch: (limit: number) => number = numberCruncher): number {
  const t = performance.now();
  crunch(limit);
  return performance.now() - t;
}
