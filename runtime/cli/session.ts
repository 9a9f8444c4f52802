// One run of a graph under one plan, shared by `xauto launch` and `xauto profile`: plan,
// optional warm-up, ROS2 bridge, executor with progress, Ctrl-C, summary.
import { ros2Bridge } from '../exec/bridge.js';
import { Executor } from '../exec/executor.js';
import type { ExecPlan } from '../exec/plan.js';
import { ddsLinks } from '../exec/remote.js';
import type { Graph } from '../graph/index.js';
import type { LaunchDescription } from '../launch/index.js';
import { openRos2, type Ros2Context } from '../ros2/index.js';
import { resolvePlan } from '../schedule/index.js';
import { counters } from '../trace/counters.js';
import { buildSummary, type RunSummary } from '../trace/report.js';
import type { Tracer } from '../trace/tracer.js';
import type { XpuInfo } from '../xpu/types.js';
import { Progress } from './progress.js';

/** Ctrl-C: the caller sets `stopped` and calls `stop()`, which the run fills in while it runs. */
export interface RunControl {
  stopped: boolean;
  stop?: () => void;
}

export interface RunPlanOptions {
  /** xauto | module | default | PLAN.json */
  spec: string;
  frames?: number;
  duration?: number;
  realtime?: boolean;
  workers?: number;
  reprofile?: boolean;
  /** Frames per source run first, unmeasured, under the same plan (0: none). */
  warmup?: number;
  /** The first frames per source of the measured run itself, run but not traced (its own threads and sessions settle). */
  settle?: number;
  /** Runs only these stages (one process of a multi-process launch). */
  local?: Set<number>;
  /** Name of this process (for the ROS2 node name). */
  processName?: string;
  log: (line: string) => void;
  control: RunControl;
  /** 'running' or 'profiling', for the start line. */
  verb?: string;
}

export interface PlanRun {
  summary: RunSummary;
  tracer: Tracer;
  plan: ExecPlan;
}

/** Runs the graph once; undefined when stopped before the measured run began. */
export async function runPlan(desc: LaunchDescription, graph: Graph, xpus: XpuInfo[], o: RunPlanOptions): Promise<PlanRun | undefined> {
  const { log, control, local } = o;
  const chosen = await resolvePlan(graph, xpus, o.spec, { reprofile: o.reprofile, workers: o.workers, log, progress: true });
  const bridged = [...graph.topics.values()].filter((t) => t.ros2);
  if (o.warmup && !bridged.length && !local && !control.stopped) {
    // Same plan, same XPUs, results dropped: the measured run starts warm.
    log(`xauto: warming up plan '${chosen.plan.name}' (${o.warmup} frames per source, not measured)`);
    const warm = new Executor(graph, chosen.plan, { xpus, frames: o.warmup, codec: chosen.codec, fallback: chosen.fallback, log });
    await warm.start();
    control.stop = () => warm.stop();
    try {
      await warm.run();
    } finally {
      control.stop = undefined;
      await warm.close();
    }
  }
  if (control.stopped) return undefined;

  const nodeName = `xauto_${(o.processName ?? 'main').replace(/\W/g, '_')}`;
  let ros: Ros2Context | undefined;
  if (local || bridged.some((t) => t.ros2!.dir === 'in')) ros = await openRos2({ nodeName });
  else if (bridged.length) {
    // Publishing only: a run without ROS2 still makes sense, so a missing DDS is one line.
    try {
      ros = await openRos2({ nodeName });
    } catch (e) {
      log(`xauto: not publishing to ROS2 (${e instanceof Error ? e.message : String(e)})`);
      bridged.length = 0;
    }
  }
  const bridge = bridged.length ? ros2Bridge(ros!) : undefined;
  if (bridged.length) log(`xauto: ROS2 topics: ${bridged.map((t) => `${t.name} (${t.ros2!.dir}, ${t.type})`).join(', ')}`);

  const durationS = o.duration ?? (o.frames === undefined ? 10 : undefined);
  const sources = graph.sources.filter((s) => !local || local.has(s)).length;
  const progress = new Progress(o.frames !== undefined ? o.frames * sources : undefined, durationS);
  // Counters describe the measured run only (not profiling or the warm-up).
  counters.reset();
  const ex = new Executor(graph, chosen.plan, {
    xpus,
    frames: o.frames,
    durationS,
    realtime: o.realtime,
    codec: chosen.codec,
    bridge,
    local: local && { stages: local, links: ddsLinks(ros!) },
    fallback: chosen.fallback,
    timeout: chosen.timeout,
    settle: o.settle,
    log: (l) => progress.interrupt(() => log(l)),
  });
  let ticker: NodeJS.Timeout | undefined;
  try {
    await ex.start();
    control.stop = () => {
      progress.interrupt(() => log('xauto: stopping sources, draining frames in flight'));
      ex.stop();
    };
    const used = [...new Set(chosen.plan.placements.filter((_, i) => !local || local.has(i)).map((p) => p.xpu))];
    log(
      `xauto: ${o.verb ?? 'running'} ${local?.size ?? graph.stages.length} xnodes on ${used.join(', ')} (plan '${chosen.plan.name}'; ` +
        (o.frames !== undefined ? `${o.frames} frames per source, ${o.realtime ? "at the sources' rates" : 'as fast as the pipeline takes them (latency includes queueing)'}` : `${durationS} s`) +
        '; Ctrl-C stops)',
    );
    ticker = setInterval(() => progress.update(ex.report().sources.reduce((n, s) => n + s.emitted, 0)), 200);
    if (control.stopped) return undefined; // Ctrl-C while the executor was starting
    await ex.run();
  } finally {
    control.stop = undefined;
    clearInterval(ticker);
    progress.stop();
    await ex.close();
    bridge?.close();
    await ros?.close();
  }
  return { summary: buildSummary(desc.file, chosen.plan.name, ex.report(), ex.tracer, counters.snapshot()), tracer: ex.tracer, plan: chosen.plan };
}
