// One run of a graph under one plan, shared by `xauto launch` and `xauto profile`: plan,
// optional warm-up, ROS2 bridge, executor with progress, Ctrl-C, summary.
import { readFileSync } from 'node:fs';
import { ros2Bridge } from '../exec/bridge.js';
import { Executor, launchTimeouts } from '../exec/executor.js';
import type { ExecPlan } from '../exec/plan.js';
import { ddsLinks } from '../exec/remote.js';
import type { Graph } from '../graph/index.js';
import type { LaunchDescription } from '../launch/index.js';
import { RecordError, Recorder, type RecordStats } from '../record/recorder.js';
import { Recording, RecordingError } from '../record/reader.js';
import { replayGraph } from '../record/replay.js';
import { openRos2, type Ros2Context } from '../ros2/index.js';
import { resolvePlan } from '../schedule/index.js';
import { counters } from '../trace/counters.js';
import { CpuSampler, type CpuSeries } from '../trace/cpu.js';
import { dumpRun, mergeDumps, writeDump, type ProcessDump } from '../trace/merge.js';
import { analysePaths, type PathGraph } from '../trace/paths.js';
import { buildSummary, type ExecFacts, type RunSummary } from '../trace/report.js';
import type { Tracer } from '../trace/tracer.js';
import type { XpuInfo } from '../xpu/types.js';
import { UserError } from './errors.js';
import { Progress } from './progress.js';
import type { RunCheckpoints } from './checkpointing.js';
import type { MigrationSpec } from '../exec/migrate.js';

/** Ctrl-C: the caller sets `stopped` and calls `stop()`, which the run fills in while it runs. */
export interface RunControl {
  stopped: boolean;
  stop?: () => void;
}

/** Routes Ctrl-C to `control` until the returned function is called. */
export function stopOnSigint(control: RunControl): () => void {
  const onSigint = () => {
    control.stopped = true;
    control.stop?.();
  };
  // SIGTERM is the same orderly stop as Ctrl-C.
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  };
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
  /** When every implementation of a stage has failed: stop the run, or go on without it (default). */
  onStageFailed?: 'stop' | 'continue';
  /** Name of this process (for the ROS2 node name). */
  processName?: string;
  log: (line: string) => void;
  control: RunControl;
  /** 'running' or 'profiling', for the start line. */
  verb?: string;
  /** Record the measured run's topics into this MCAP file. */
  record?: string;
  /** With `record`: only these topics. */
  topics?: string[];
  /** Feed the graph from this MCAP recording in place of its sources. */
  replay?: string;
  /** One process of a multi-process launch: write its trace and summary here for the top process to merge. */
  traceDump?: string;
  /** Crash recovery: checkpoints of the measured run, or its start from an image (cli/checkpointing.ts). */
  checkpoints?: RunCheckpoints;
  /** A stage moving to or from this process during the run (exec/migrate.ts). */
  migration?: MigrationSpec;
  /** Called about once a second while the measured run runs (a live view; the progress bar then stays off). */
  live?: (run: LiveRun) => void;
}

/** What a live view sees of a running run. */
export interface LiveRun {
  tracer: Tracer;
  report: () => ExecFacts;
  graph: Graph;
  paths: PathGraph;
  xpus: XpuInfo[];
}

export interface PlanRun {
  summary: RunSummary;
  tracer: Tracer;
  plan: ExecPlan;
  /** CPU load per core during the measured run. */
  cpu: CpuSeries;
  /** The graph as path accounting sees it. */
  paths: PathGraph;
  /** The slowest source's period (ms): a frame later than this missed its deadline. */
  deadlineMs?: number;
}

/** Runs the graph once; undefined when stopped before the measured run began. */
export async function runPlan(desc: LaunchDescription, planned: Graph, xpus: XpuInfo[], o: RunPlanOptions): Promise<PlanRun | undefined> {
  const recording = o.replay ? await asUserError(() => Recording.open(o.replay!)) : undefined;
  try {
    return await asUserError(() => runPlanOn(desc, planned, xpus, o, recording));
  } finally {
    await recording?.close();
  }
}

/** The graph as path accounting sees it: trigger edges only (latched and optional inputs do not start a stage). */
export function pathGraph(graph: Graph, local?: Set<number>): PathGraph {
  const edges = new Map<string, PathGraph['edges'][number]>(); // two topics between two stages: one edge
  for (const t of graph.topics.values()) {
    for (const sub of t.subscribers) {
      const input = graph.stages[sub.stage]!.inputs.find((i) => i.port === sub.port);
      if (!input || input.spec.latched || input.spec.optional) continue;
      for (const pub of t.publishers) edges.set(`${pub.stage}>${sub.stage}`, { from: pub.stage, to: sub.stage });
    }
  }
  const mine = (s: number) => !local || local.has(s);
  return { stages: graph.stages.map((s) => s.name), edges: [...edges.values()], sources: graph.sources.filter(mine), sinks: graph.sinks.filter(mine) };
}

/**
 * The top process's run merged with the runs its child processes dumped: one summary (paths
 * followed across processes), one tracer. A child that left no dump is named in `missing`.
 */
export function mergeProcessRuns(graph: Graph, top: PlanRun, xpus: XpuInfo[], dumps: Array<{ name: string; file: string }>): { run: PlanRun; xpuNames: string[]; missing: string[] } {
  const loaded: ProcessDump[] = [dumpRun('main', top.tracer, top.summary, xpus.map((x) => x.id))];
  const missing: string[] = [];
  for (const d of dumps) {
    try {
      loaded.push(JSON.parse(readFileSync(d.file, 'utf8')) as ProcessDump);
    } catch {
      missing.push(d.name);
    }
  }
  const merged = mergeDumps(loaded, graph.stages.map((s) => s.name));
  const paths = pathGraph(graph);
  merged.summary.paths = analysePaths(paths, merged.tracer.events(), merged.tracer.completions());
  merged.summary.throughput_fps = Math.max(0, ...loaded.map((d) => d.summary.throughput_fps ?? 0));
  const deadlineMs = Math.max(-Infinity, ...loaded.map((d) => (typeof d.summary.deadline_ms === 'number' ? d.summary.deadline_ms : -Infinity)));
  if (Number.isFinite(deadlineMs)) {
    merged.summary.deadline_ms = deadlineMs;
    merged.summary.deadline_misses = merged.tracer.completions().filter((c) => c.latency > deadlineMs).length;
  }
  return { run: { ...top, summary: merged.summary, tracer: merged.tracer, paths }, xpuNames: merged.xpuNames, missing };
}

/** A recording that cannot be read or written is the user's to fix: one line, exit 2. */
async function asUserError<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RecordingError || e instanceof RecordError) throw new UserError(e.message);
    throw e;
  }
}

async function runPlanOn(desc: LaunchDescription, planned: Graph, xpus: XpuInfo[], o: RunPlanOptions, recording?: Recording): Promise<PlanRun | undefined> {
  const { log, control, local } = o;
  // Sources emitting as fast as taken keep every stage busy: back-to-back times; at the rates, paced ones.
  const at = o.frames !== undefined && !o.realtime ? 'saturation' : 'rate';
  const resolved = await resolvePlan(planned, xpus, o.spec, { reprofile: o.reprofile, workers: o.workers, log, progress: true, at });
  let graph = planned;
  let chosen = resolved;
  let frames = o.frames;
  if (recording) {
    // Planned for the launch file's own sources; the sources then read the recording instead.
    const replay = replayGraph(planned, resolved.plan, recording, xpus);
    graph = replay.graph;
    chosen = { ...resolved, plan: replay.plan };
    if (frames === undefined && o.duration === undefined) frames = replay.frames;
    else if (frames !== undefined && frames > replay.frames) {
      log(`xauto: --frames ${frames}: the recording holds ${replay.frames} frames per source; replaying those`);
      frames = replay.frames;
    }
    log(`xauto: replaying ${recording.file}: ${replay.sources.map((s) => `${s.stage} (${s.topics.join(', ')}: ${s.frames} frames)`).join('; ')}`);
  }
  const bridged = [...graph.topics.values()].filter((t) => t.ros2);
  if (o.warmup && !bridged.length && !local && !control.stopped) {
    // Same plan, same XPUs, results dropped: the measured run starts warm.
    log(`xauto: warming up plan '${chosen.plan.name}' (${o.warmup} frames per source, not measured)`);
    // The run's own deadlines and failure policy: a stage that hangs or keeps failing during
    // the warm-up is handled as it would be in the measured run.
    const warm = new Executor(graph, chosen.plan, {
      xpus,
      frames: o.warmup,
      codec: chosen.codec,
      fallback: chosen.fallback,
      timeout: launchTimeouts(graph, chosen.timeout),
      onStageFailed: o.onStageFailed,
      log,
    });
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
  const ck = o.checkpoints;
  // A restored run: device memory first (before any stage allocates), then frames go on after the image's.
  const firstFrame = ck?.restoreDevice() ?? 0;
  if (frames !== undefined && firstFrame > 0) {
    if (frames <= firstFrame) {
      ck!.release();
      throw new UserError(`--frames ${frames}: the image is of frame ${firstFrame - 1}; nothing is left to run`);
    }
    frames -= firstFrame;
  }

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

  const durationS = o.duration ?? (frames === undefined ? 10 : undefined);
  const sources = graph.sources.filter((s) => !local || local.has(s)).length;
  const progress = new Progress(frames !== undefined && !o.live ? frames * sources : undefined, o.live ? undefined : durationS);
  // A process records what its own stages publish (a moved-in stage's outputs go back to its
  // home process, which records them); in a launch of several processes each has its file.
  const movedIn = o.migration?.role === 'target' ? o.migration.stage : -1;
  const ownTopic = (t: { publishers: Array<{ stage: number }> }) => !local || (t.publishers.length ? t.publishers.some((p) => local.has(p.stage) && p.stage !== movedIn) : !o.processName);
  const recorder = o.record
    ? new Recorder(o.record, [...graph.topics.values()].filter(ownTopic).map((t) => ({ name: t.name, type: t.type, qos: t.ros2?.qos })), {
        only: o.topics,
        known: [...graph.topics.keys()],
        metadata: { launch_file: desc.file, plan: chosen.plan.name, ...(local ? { process: o.processName ?? 'main' } : {}) },
        log,
      })
    : undefined;
  // Counters describe the measured run only (not profiling or the warm-up).
  counters.reset();
  const links = local && ddsLinks(ros!);
  // The links of a launch's checkpoints, before the executor waits for every process to subscribe.
  const ckLinksOff: Array<() => void> = [];
  ck?.wire(links || undefined, ckLinksOff);
  const ex = new Executor(graph, chosen.plan, {
    xpus,
    frames,
    tap: recorder && ((topic, value, seq) => recorder.record(topic, value, seq)),
    durationS,
    realtime: o.realtime,
    codec: chosen.codec,
    bridge,
    local: local && links && { stages: local, links },
    fallback: chosen.fallback,
    timeout: launchTimeouts(graph, chosen.timeout),
    onStageFailed: o.onStageFailed,
    settle: o.settle,
    firstFrame,
    jobs: ck?.jobs(),
    migration: o.migration,
    log: (l) => progress.interrupt(() => log(l)),
  });
  let ticker: NodeJS.Timeout | undefined;
  let recorded: RecordStats | undefined;
  const cpu = new CpuSampler(durationS !== undefined && durationS > 30 ? 250 : 100);
  try {
    await recorder?.ready(); // the writer thread up before the first frame
    await ex.start();
    await ck?.attach(ex, graph);
    control.stop = () => {
      progress.interrupt(() => log('xauto: stopping sources, draining frames in flight'));
      ex.stop();
    };
    const used = [...new Set(chosen.plan.placements.filter((_, i) => !local || local.has(i)).map((p) => p.xpu))];
    log(
      `xauto: ${o.verb ?? 'running'} ${local?.size ?? graph.stages.length} xnodes on ${used.join(', ')} (plan '${chosen.plan.name}'; ` +
        (frames !== undefined ? `${frames} frames per source, ${o.realtime ? "at the sources' rates" : 'as fast as the pipeline takes them (latency includes queueing)'}` : `${durationS} s`) +
        '; Ctrl-C stops)',
    );
    if (o.live) {
      const live: LiveRun = { tracer: ex.tracer, report: () => ex.report(), graph, paths: pathGraph(graph, local), xpus };
      ticker = setInterval(() => o.live!(live), 1000);
    } else ticker = setInterval(() => progress.update(ex.report().sources.reduce((n, s) => n + s.emitted, 0)), 200);
    if (control.stopped) return undefined; // Ctrl-C while the executor was starting
    cpu.start();
    await ex.run();
  } finally {
    control.stop = undefined;
    clearInterval(ticker);
    progress.stop();
    await ck?.close(ex);
    for (const off of ckLinksOff) off();
    await ex.close();
    ck?.release();
    bridge?.close();
    await ros?.close();
    // A stopped run still leaves a complete, indexed file.
    recorded = await recorder?.close();
  }
  const summary = buildSummary(desc.file, chosen.plan.name, ex.report(), ex.tracer, counters.snapshot());
  const cpuSeries = cpu.stop();
  summary.mode = frames !== undefined && !o.realtime ? 'saturation' : 'rate';
  const paths = pathGraph(graph, local);
  summary.paths = analysePaths(paths, ex.tracer.events(), ex.tracer.completions());
  const periods = graph.sources.filter((i) => !local || local.has(i)).map((i) => graph.stages[i]!.rateHz).filter((r) => r > 0).map((r) => 1000 / r);
  const deadlineMs = periods.length ? Math.max(...periods) : undefined;
  if (deadlineMs !== undefined) {
    summary.deadline_ms = deadlineMs;
    summary.deadline_misses = ex.tracer.completions().filter((c) => c.latency > deadlineMs).length;
  }
  if (recorded) {
    const r = recorded;
    log(`xauto: recorded ${r.messages} messages on ${r.topics} topics (${(r.bytes / 1e6).toFixed(1)} MB) to ${r.file}`);
    summary.record = { file: r.file, messages: r.messages, bytes: r.bytes, topics: r.topics, failed: r.failed };
  }
  if (recording) summary.replay = { file: recording.file, frames: frames ?? 0 };
  if (o.traceDump) writeDump(o.traceDump, dumpRun(o.processName ?? 'main', ex.tracer, summary, xpus.map((x) => x.id)));
  return { summary, tracer: ex.tracer, plan: chosen.plan, cpu: cpuSeries, paths, deadlineMs };
}
