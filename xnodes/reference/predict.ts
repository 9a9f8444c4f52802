// The simulator's prediction of the reference system's hot-path latency and BehaviorPlanner
// period under a plan, defined as its command nodes measure them: hot path from the later of
// the hot-path roots' stamps (a sensor stamps when its callback runs) to the stamp of the
// hot-path sink (taken as its callback starts, before it crunches); the period from one
// BehaviorPlanner stamp to the next; and how late each planner tick starts after it was due
// (what it waited for: a spread of it is the period's deviation). The same meter reads a real
// run (the executor's onDispatch).
import type { Job } from '../../runtime/exec/core/types.js';
import type { ExecPlan } from '../../runtime/exec/plan.js';
import type { Graph } from '../../runtime/graph/graph.js';
import { buildModel, simulate, type Profile } from '../../runtime/schedule/index.js';
import type { Assignment } from '../../runtime/schedule/model.js';
import { placementKey, type StageLatency } from '../../runtime/schedule/profile.js';
import { summarize, type Summary } from '../../runtime/trace/stats.js';
import type { XpuInfo } from '../../runtime/xpu/types.js';

export const HOT_ROOTS = ['FrontLidarDriver', 'RearLidarDriver'];
export const HOT_SINK = 'ObjectCollisionEstimator';
export const BEHAVIOR_PLANNER = 'BehaviorPlanner';

/** Hot-path latencies and planner periods (ms) from dispatch times: `on` sees every job's start. */
export class ReferenceMeter {
  readonly samples: number[] = [];
  readonly periods: number[] = [];
  /** Per planner tick: its start minus when it was due (ms). */
  readonly late: number[] = [];
  private readonly roots: number[];
  private readonly sink: number;
  private readonly planner: number;
  private lastPlanner = { t: NaN, seq: 0 };
  /** Per root: the start of its run per sequence number (a few periods kept). */
  private readonly stamps: Array<Map<number, number>>;

  constructor(
    graph: Graph,
    /** Frames left out first (the command nodes skip their first callbacks, as the reference does). */
    private readonly skip = 10,
  ) {
    const idx = (n: string) => graph.stages.findIndex((s) => s.name === n);
    this.roots = HOT_ROOTS.map(idx);
    this.sink = idx(HOT_SINK);
    this.planner = idx(BEHAVIOR_PLANNER);
    if (this.sink < 0 || this.planner < 0 || this.roots.some((r) => r < 0)) {
      throw new Error(`reference meter: the graph lacks one of ${[HOT_SINK, BEHAVIOR_PLANNER, ...HOT_ROOTS].join(', ')}`);
    }
    this.stamps = this.roots.map(() => new Map());
  }

  on = (job: Job, t: number): void => {
    if (job.stage === this.planner) {
      // Δstamp / Δsequence, as the reference's period statistic.
      const last = this.lastPlanner;
      if (job.frame.seq > this.skip) this.late.push(t - job.frame.t0); // a timer's frame starts when it is due
      if (job.frame.seq > this.skip && Number.isFinite(last.t) && job.frame.seq > last.seq) this.periods.push((t - last.t) / (job.frame.seq - last.seq));
      this.lastPlanner = { t, seq: job.frame.seq };
      return;
    }
    const r = this.roots.indexOf(job.stage);
    if (r >= 0) {
      const m = this.stamps[r]!;
      m.set(job.frame.seq, t);
      m.delete(job.frame.seq - 8);
    } else if (job.stage === this.sink && job.frame.seq >= this.skip) {
      // The sink's frame carries the newest root sequence number: the later stamp is that one's.
      let later = -Infinity;
      for (const m of this.stamps) later = Math.max(later, m.get(job.frame.seq) ?? -Infinity);
      if (Number.isFinite(later)) this.samples.push(t - later);
    }
  };

  hot(): Summary {
    return summarize(this.samples);
  }

  /** Mean and sample deviation of the periods (as the reference's statistic). */
  period(): { mean: number; deviation: number } {
    const n = this.periods.length;
    const mean = this.periods.reduce((a, x) => a + x, 0) / n;
    const ss = this.periods.reduce((a, x) => a + (x - mean) ** 2, 0);
    return { mean, deviation: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN };
  }
}

/**
 * The profile with entries for XPUs it was not measured on (the baselines' executor threads):
 * each takes what the same implementation measured on an XPU of the same backend.
 */
function aliased(profile: Profile, xpus: XpuInfo[]): Profile {
  const stages = profile.stages.map((entries) => {
    const out: Record<string, StageLatency> = { ...entries };
    for (const x of xpus) {
      const like = xpus.filter((y) => y.backend === x.backend && y.id !== x.id);
      for (const [key, lat] of Object.entries(entries)) {
        const [impl, at] = key.split('@') as [string, string];
        if (like.some((y) => y.id === at) && !out[placementKey({ impl, xpu: x.id })]) out[placementKey({ impl, xpu: x.id })] = lat;
      }
    }
    return out;
  });
  return { ...profile, stages };
}

/** The model assignment of an executor plan: each placement's option, priority, group and timer phase. */
function assignmentOf(graph: Graph, plan: ExecPlan, model: ReturnType<typeof buildModel>): Assignment {
  const option = plan.placements.map((p, v) => {
    const i = model.stages[v]!.options.findIndex((o) => o.impl === p.impl && model.xpus[o.xpu]!.id === p.xpu);
    if (i < 0) throw new Error(`predict: no profiled option ${placementKey(p)} for '${graph.stages[v]!.name}'`);
    return i;
  });
  const a: Assignment = { option, priority: plan.placements.map((p) => p.priority), group: plan.placements.map((p) => p.group), serialize: !!plan.serializeBetweenModules };
  if (plan.placements.some((p) => p.phaseMs)) a.phase = plan.placements.map((p) => p.phaseMs ?? 0);
  return a;
}

/** The simulated hot path and planner period of `plan` on `xpus` for `durationS` at the sources' rates. */
export function predictReference(
  graph: Graph,
  plan: ExecPlan,
  xpus: XpuInfo[],
  profile: Profile,
  durationS: number,
  seed = 1,
): { hot: Summary; period: { mean: number; deviation: number }; late: Summary } {
  const model = buildModel(graph, xpus, aliased(profile, xpus), { nominalMs: 1 });
  const meter = new ReferenceMeter(graph);
  simulate(model, assignmentOf(graph, plan, model), { durationMs: durationS * 1000, sample: true, seed, onDispatch: meter.on });
  return { hot: meter.hot(), period: meter.period(), late: summarize(meter.late) };
}
