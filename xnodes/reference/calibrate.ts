// This host's time per number_crunch_limit, as the reference's number_cruncher_benchmark
// measures it: limits from 64, doubling, until one call takes a second. What a node's limit
// should be for a wanted run time is read off this table (timing/default.hpp's advice).
// Each time is the best of 3 calls (the reference times one): on a shared host a call that
// was preempted says nothing about the workload.
import { crunchTimeMs, numberCruncher } from './crunch.js';
import { crunchAddon } from './native.js';

export interface CalibrationRow {
  limit: number;
  jsMs: number;
  /** The C++ cruncher (native implementations), NaN when native/core is not built. */
  nativeMs: number;
}

export function calibrate(untilMs = 1000): CalibrationRow[] {
  let native: ((limit: number) => number) | undefined;
  try {
    native = crunchAddon().crunch;
  } catch {
    native = undefined;
  }
  numberCruncher(4096); // the JIT optimises the loop before the first timed call
  const rows: CalibrationRow[] = [];
  for (let limit = 64, ms = 0; ms < untilMs; limit *= 2) {
    const best = (crunch?: (limit: number) => number) => Math.min(...[0, 1, 2].map(() => crunchTimeMs(limit, crunch)));
    const jsMs = best();
    const nativeMs = native ? best(native) : NaN;
    rows.push({ limit, jsMs, nativeMs });
    ms = Math.min(jsMs, Number.isNaN(nativeMs) ? jsMs : nativeMs);
  }
  return rows;
}
