// How stage priorities become device stream priorities. The planner gives every stage on the
// critical path (the longest source->sink path of the plan) a priority at least
// CRITICAL_PATH_BAND above the others of the same launch priority (runtime/schedule/
// priorities.ts), so on the shared device the critical branch's launches run first and
// preempt the other branch's idempotent kernels, which are relaunched afterwards.

/** Priority added to the stages of the critical path (below a launch-priority step of 1e6). */
export const CRITICAL_PATH_BAND = 1000;

/** The device stream priority of a stage with executor priority `p` (an integer, order kept). */
export function streamPriority(p: number): number {
  return Number.isFinite(p) ? Math.round(p) : 0;
}
