// The dispatch core's state: per stage its inputs, source and counters; per XPU its lanes and
// ready queue; made once from the topology (producers wired, joins decided).
import { InputPort } from './ports.js';
import { decideSync } from './sync.js';
import type { CoreOptions, CoreStage, Topology } from './types.js';

export interface Source {
  stage: number;
  period: number;
  /** When frame 0 is due after the origin (ms): the plan's timer phase. */
  phase: number;
  emitted: number;
  limit: number;
  done: boolean;
  pending: boolean;
  tickT0: number;
  tickSeq: number;
  overruns: number;
  scheduled: boolean;
}

export interface StageState {
  readonly spec: CoreStage;
  readonly index: number;
  xpu: number;
  priority: number;
  group: string | undefined;
  readonly inputs: InputPort[];
  readonly triggers: InputPort[];
  /** Trigger inputs joined by source frame number (like message_filters' exact-time sync). */
  syncBySeq: boolean;
  /** Trigger inputs taken newest first, unaligned (a `latest` join). */
  latest: boolean;
  running: boolean;
  queued: boolean;
  readySince: number;
  failures: number;
  runs: number;
  /** Jobs that failed (threw, rejected, or returned outputs its ports do not take). */
  errors: number;
  /** Jobs that ran past their deadline. */
  timeouts: number;
  /** Runs that published nothing to a local subscriber: the frame ended here. */
  ended: number;
  /** Sources, and timer-driven stages with inputs (their timer). */
  source?: Source;
  /** The last runs' times (ms), a ring of RECENT_RUNS (reserve.ts). */
  recentMs: number[];
  recentN: number;
  /** While waiting at its XPU: the paced tick it yields to (reserve.ts); NaN when none. */
  yieldUntil: number;
}

export interface XpuState {
  index: number;
  lanes: number;
  eventLoop: boolean;
  workers: boolean;
  busy: number;
  /** Lanes in use (the lane a job gets is the lowest free one). */
  laneBusy: boolean[];
  queue: StageState[];
  dirty: boolean;
  busyMs: number;
  /** The event loop yielded before its next stage (a soon() pending). */
  yielding: boolean;
}

/** A job ran past its implementation's deadline. */
export class DeadlineError extends Error {
  constructor(stage: string, ms: number) {
    super(`'${stage}' did not finish within its deadline of ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** Failures in a row after which a stage falls back. */
export const FALLBACK_AFTER = 3;
const SYNC_WINDOW = 8;

/** The state of a run of `topo`, before anything runs. */
export function buildState(topo: Topology, opts: CoreOptions): { stages: StageState[]; xpus: XpuState[] } {
const xpus: XpuState[] = topo.xpus.map((x, index) => ({
    index,
    lanes: x.lanes,
    eventLoop: x.eventLoop,
    workers: x.workers,
    busy: 0,
    laneBusy: new Array<boolean>(x.lanes).fill(false),
    queue: [],
    dirty: false,
    busyMs: 0,
    yielding: false,
  }));
const stages: StageState[] = topo.stages.map((spec, index) => {
    const inputs = spec.inputs.map((i) => new InputPort(i));
    const st: StageState = {
      spec,
      index,
      xpu: spec.xpu,
      priority: spec.priority,
      group: spec.group,
      inputs,
      triggers: inputs.filter((i) => i.trigger),
      syncBySeq: false,
      latest: spec.join === 'latest' && !opts.fast,
      running: false,
      queued: false,
      readySince: 0,
      failures: 0,
      runs: 0,
      errors: 0,
      timeouts: 0,
      ended: 0,
      recentMs: [],
      recentN: 0,
      yieldUntil: NaN,
    };
    // A timer-driven stage with inputs ticks as a source does; it also reads its inputs.
    if (spec.inputs.length === 0 || spec.periodMs > 0) {
      st.source = {
        stage: index,
        period: spec.periodMs > 0 ? spec.periodMs : 0,
        phase: spec.periodMs > 0 ? timerPhase(spec.phaseMs ?? 0, spec.periodMs) : 0,
        emitted: 0,
        limit: spec.local ? opts.frames : 0,
        done: !spec.local,
        pending: false,
        tickT0: 0,
        tickSeq: 0,
        overruns: 0,
        scheduled: false,
      };
    }
    return st;
  });
  for (const st of stages) {
    if (!st.spec.local) continue;
    for (const o of st.spec.outputs) {
      for (const sub of o.subs) {
        const input = stages[sub.stage]!.inputs[sub.input]!;
        input.producers.push(st.index);
        input.done.push(-Infinity);
        input.fanout = o.fanout;
      }
    }
  }
  const window = opts.syncWindow ?? SYNC_WINDOW;
  for (const k of decideSync(topo, opts.fast)) {
    const st = stages[k]!;
    st.syncBySeq = true;
    // Frames of one number reach a join at different times: keep a window of them to pair.
    // (Fast mode needs none: backpressure keeps the branches in step without drops.)
    if (!opts.fast) for (const i of st.triggers) i.depth = Math.max(i.depth, window);
  }
  return { stages, xpus };
}

/** A phase within its timer's period (a plan written for another period wraps, never delays a whole period). */
function timerPhase(phase: number, period: number): number {
  if (!Number.isFinite(phase) || phase <= 0) return 0;
  return phase % period;
}
