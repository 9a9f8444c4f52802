// Precise timers for the real clock (clock.ts): ticks that must start on time to the
// microsecond, not to the millisecond Node's timers keep. One native timer per thread
// (native/core timer.cc: a timerfd the event loop watches) is armed for the earliest pending
// instant; when it fires, every timer due runs in order of time, then it is armed for the next.
// The thread sleeps until then and nothing is allocated while it waits. Without the addon (not
// built), a timer is set 1.5 ms early and then polls one event-loop turn at a time.
import { performance } from 'node:perf_hooks';
import { loadAddon } from '../util/native.js';

interface NativeTimer {
  arm(delayMs: number): void;
  disarm(): void;
  close(): void;
}

interface Pending {
  t: number;
  fn: () => void;
}

/** Timers due within this of now run in the same firing (the clocks differ by rounding). */
const DUE_MS = 0.002;
/** The polling fallback's lead: Node's timers fire up to a millisecond or so early or late. */
const POLL_LEAD_MS = 1.5;

let native: NativeTimer | null | undefined;
/** Pending timers, earliest first (a dispatcher keeps one; a handful at most). */
const pending: Pending[] = [];
let armedFor = Infinity;

function nativeTimer(): NativeTimer | null {
  if (native !== undefined) return native;
  try {
    const addon = loadAddon<{ PreciseTimer?: new (cb: () => void) => NativeTimer }>('core');
    native = addon.PreciseTimer && process.platform === 'linux' ? new addon.PreciseTimer(fire) : null;
  } catch {
    native = null;
  }
  return native;
}

function fire(): void {
  armedFor = Infinity;
  const now = performance.now();
  while (pending.length && pending[0]!.t <= now + DUE_MS) {
    const p = pending.shift()!;
    try {
      p.fn();
    } catch (e) {
      rearm();
      throw e;
    }
  }
  rearm();
}

function rearm(): void {
  const next = pending.length ? pending[0]!.t : Infinity;
  if (next === armedFor) return;
  armedFor = next;
  if (next === Infinity) native!.disarm();
  else native!.arm(next - performance.now());
}

/** Whether precise timers sleep on the native timer (false: they poll the event loop). */
export function preciseTimerNative(): boolean {
  return nativeTimer() !== null;
}

/** Runs `fn` once at time `t` (performance.now() ms), not before; returns a cancel. */
export function preciseTimer(t: number, fn: () => void): () => void {
  if (!nativeTimer()) return pollingTimer(t, fn);
  const p: Pending = { t, fn };
  let i = pending.length;
  while (i > 0 && pending[i - 1]!.t > t) i--;
  pending.splice(i, 0, p);
  rearm();
  return () => {
    const k = pending.indexOf(p);
    if (k < 0) return;
    pending.splice(k, 1);
    rearm();
  };
}

function pollingTimer(t: number, fn: () => void): () => void {
  let cancelled = false;
  let poll: NodeJS.Immediate | undefined;
  const check = () => {
    if (cancelled) return;
    if (performance.now() >= t) fn();
    else poll = setImmediate(check);
  };
  const h = setTimeout(check, Math.max(0, t - performance.now() - POLL_LEAD_MS));
  return () => {
    cancelled = true;
    clearTimeout(h);
    if (poll) clearImmediate(poll);
  };
}
