// Paced ticks keep their XPU. A paced stage (timer-driven, reading its inputs: the reference
// system's BehaviorPlanner) is judged by how steadily it ticks, and its XPU cannot preempt: a
// job started just before its tick makes the tick wait for the whole job. So a job that would
// take the XPU's last free lane and is expected to run past the next tick of a higher-priority
// paced stage there (on the event loop, which runs the source clock: anywhere) waits for that
// tick instead, while shorter jobs that fit before it still run (backfill). A job yields at
// most once, to one tick, so nothing starves. A job is expected to take as long as the longest
// of its stage's last runs; before it has run, it never yields.
import { nextDue, RESOLUTION_MS } from '../clock.js';
import type { Source, StageState, XpuState } from './state.js';

/** Runs of a stage its expected run time looks back on. */
export const RECENT_RUNS = 8;

/** Records one run's time (ms) of `st`. */
export function recordRun(st: StageState, ms: number): void {
  st.recentMs[st.recentN++ % RECENT_RUNS] = ms;
}

/** The longest of `st`'s last runs (ms; 0 before its first). */
export function expectedMs(st: StageState): number {
  let m = 0;
  for (let k = Math.min(st.recentN, RECENT_RUNS) - 1; k >= 0; k--) m = Math.max(m, st.recentMs[k]!);
  return m;
}

/**
 * When `st` must not start on `x` at `now`: the due time of the paced tick it yields to, or
 * NaN when it may start. `paced` are the run's paced timers.
 */
export function yieldsUntil(st: StageState, x: XpuState, now: number, paced: readonly Source[], stages: readonly StageState[], origin: number): number {
  if (paced.length === 0 || x.busy + 1 < x.lanes) return NaN; // a lane stays free for the tick
  // Yielded once: until the tick; within a timer's resolution of it, the job starts.
  if (st.yieldUntil === st.yieldUntil) return now + RESOLUTION_MS < st.yieldUntil ? st.yieldUntil : NaN;
  const end = now + expectedMs(st);
  let due = Infinity;
  for (const src of paced) {
    if (src.done || src.pending || src.stage === st.index) continue;
    const p = stages[src.stage]!;
    // The event loop also runs the source clock: a job there holds back every tick.
    if ((p.xpu !== x.index && !x.eventLoop) || p.priority <= st.priority || p.running) continue;
    const d = nextDue(src, origin);
    if (d > now && d < end && d < due) due = d;
  }
  return due === Infinity ? NaN : due;
}

/** Whether a paced tick ranked above `above` is due at `now` and not yet taken. */
export function overdueTick(paced: readonly Source[], stages: readonly StageState[], origin: number, now: number, above: number): boolean {
  for (const src of paced) {
    if (src.done || stages[src.stage]!.priority <= above) continue;
    if (nextDue(src, origin) <= now) return true;
  }
  return false;
}

/** Nice value of the threads that run stages ranked below a paced stage (CFS weight 1/9 of nice 0). */
export const BULK_NICE = 10;
/**
 * Nice value of the top paced stage's jobs (CFS weight 9x nice 0): its tick also waits for no
 * thread outside the stages (the event loop, V8's compiler and GC threads), as the reference's
 * prioritised executor gives its planner thread a real-time priority.
 */
export const PACED_NICE = -10;

/** A timer-driven stage that reads inputs. */
export function isPacedSpec(spec: { periodMs: number; inputs: readonly unknown[] }): boolean {
  return spec.periodMs > 0 && spec.inputs.length > 0;
}

/**
 * The OS side of the same rule: an XPU's lanes share the host's cores with every other
 * thread, so a paced tick that got its lane can still wait for a core. The top paced stage's
 * jobs run at PACED_NICE, stages ranked below it at BULK_NICE, the rest (and the event loop)
 * at 0. All 0 when there is no paced stage or nothing ranked below it.
 */
export function threadNice(stages: readonly { paced: boolean; priority: number }[]): number[] {
  let top = -Infinity;
  for (const s of stages) if (s.paced) top = Math.max(top, s.priority);
  if (!stages.some((s) => s.priority < top)) return stages.map(() => 0);
  return stages.map((s) => (s.priority < top ? BULK_NICE : s.paced && s.priority === top ? PACED_NICE : 0));
}
