import { performance } from 'node:perf_hooks';
import { preciseTimer } from './precise.js';
// The source clock the executor runs on and the simulator mirrors: all sources share one time
// origin, so frame k of each is due at origin + phase + k * period; every source due when the
// clock fires ticks before any work starts. The phase (0 unless a plan sets one) shifts a
// timer within its period so that timers of one period need not all release at the same
// instant and queue behind each other; it never changes a rate.

export interface ClockSource {
  period: number;
  /** Offset of frame 0 from the origin (ms, 0 <= phase < period). */
  phase: number;
  emitted: number;
  limit: number;
  done: boolean;
}

/** Node's timers have millisecond resolution: a wait shorter than this is not worth a timer (reserve.ts). */
export const RESOLUTION_MS = 1;
/** Exact ticks are due within this (periods such as 1000 / 8.333 Hz are not whole in binary). */
const EXACT_MS = 1e-6;

/** When the next frame of `src` is due (frame k at origin + phase + k * period). */
export function nextDue(src: ClockSource, origin: number): number {
  return origin + src.phase + src.emitted * src.period;
}

/**
 * Ticks every source due at `now` — `tick(source, due, seq)` emits or counts an overrun — and
 * returns when the next frame of any source is due (Infinity when all are done).
 */
export function tickDueSources<S extends ClockSource>(
  sources: Iterable<S>,
  origin: number,
  now: number,
  tick: (s: S, due: number, seq: number) => void,
): number {
  let next = Infinity;
  for (const src of sources) {
    if (src.done) continue;
    const due = nextDue(src, origin);
    // Once due, never before: a precise timer fires the clock (precise.ts).
    if (due <= now + EXACT_MS) {
      tick(src, due, src.emitted);
      src.emitted++;
      if (src.emitted >= src.limit) {
        src.done = true;
        continue;
      }
    }
    next = Math.min(next, nextDue(src, origin));
  }
  return next;
}

/** The real clock of the dispatch core: performance.now() and Node's timers. */
export const realClock = {
  now: (): number => performance.now(),
  at(t: number, fn: () => void): () => void {
    const h = setTimeout(fn, Math.max(0, t - performance.now()));
    return () => clearTimeout(h);
  },
  /** `precise`: to the microsecond (precise.ts), not to the millisecond Node's timers keep. */
  timer(t: number, fn: () => void, precise = false): () => void {
    if (precise) return preciseTimer(t, fn);
    const h = setTimeout(fn, Math.max(0, t - performance.now()));
    return () => clearTimeout(h);
  },
  soon(fn: () => void): void {
    setImmediate(fn);
  },
};
