// `npm run bench -- reference [--duration S] [--rounds R] [--workers N] [name:=value ...]`
// `npm run bench -- reference calibrate`
//
// The Autoware reference system (launch/reference-system.launch.yaml) under four executions,
// each for the same duration at the reference's rates, in interleaved rounds (so a change of
// the host's load weighs on all four alike):
//  - xauto: the planned placement (profiled on this host);
//  - single-threaded: ROS2's SingleThreadedExecutor — every callback on one thread (the main
//    thread), FIFO by readiness;
//  - multi-threaded: ROS2's MultiThreadedExecutor — a pool of one thread per core, no
//    priorities, a node's callbacks mutually exclusive (its default callback group; the
//    intersection's connections each have their own);
//  - prioritised: the reference's autoware_default_prioritized — five single-threaded
//    executors (front lidar, rear lidar, fusion/hot path, planner, everything else), each its
//    own thread, the planner ranked first, then the hot path (its planner_prio 30 over
//    hotpath_prio 1). The reference also gives those threads SCHED_RR priorities and CPU
//    affinity; these threads share the cores, and (with CAP_SYS_NICE) every row that ranks the planner
//    first runs lower-ranked jobs at a higher nice (core/reserve.ts, threadNice).
// Sensor callbacks (a stamp) run on the main thread in all four.
// Messages pass between nodes without serialization in all four: rclcpp writes a 4 KB plain
// struct as CDR in microseconds, the generic JS CDR writer takes milliseconds, which would
// measure the codec rather than the executor.
// KPIs are the reference's own statistics (printed by its command nodes) plus drops and CPU.
// A fifth row runs the xauto planner on the same launch with crunch_impl:=worker,native; a
// sixth the xauto plan with its timer phases removed (every timer released at the origin).
// Each row also shows the simulator's prediction of its hot path (the profile, the plan, the
// same duration; predict.ts), beside what was measured.
// `calibrate` prints this host's time per number_crunch_limit, as number_cruncher_benchmark.
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { Executor } from '../runtime/exec/executor.js';
import type { ExecPlan, StagePlacement } from '../runtime/exec/plan.js';
import { buildGraph, type Graph } from '../runtime/graph/index.js';
import { loadLaunchFile, parseLaunchArgs } from '../runtime/launch/index.js';
import { measureProfile, ModuleCodec, resolvePlan } from '../runtime/schedule/index.js';
import { counters } from '../runtime/trace/counters.js';
import { table } from '../runtime/trace/report.js';
import { packageRoot } from '../runtime/util/paths.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import type { XpuInfo } from '../runtime/xpu/types.js';
import { calibrate } from '../xnodes/reference/calibrate.js';
import { SECTION } from '../xnodes/reference/nodes.js';
import { predictReference } from '../xnodes/reference/predict.js';

const log = (l: string) => process.stderr.write(l + '\n');
const f = (v: number | undefined, d = 2) => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '-');

interface Opts {
  /** Seconds per execution, over all rounds. */
  duration: number;
  rounds: number;
  workers?: number;
  launchArgs: string[];
}

function parse(args: string[]): Opts {
  const o: Opts = { duration: 12, rounds: 3, launchArgs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.includes(':=')) o.launchArgs.push(a);
    else if (a === '--duration') o.duration = Number(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--workers') o.workers = Number(args[++i]);
    else throw new Error(`bench reference: unknown argument '${a}'; expected calibrate, --duration S, --rounds R, --workers N, name:=value`);
  }
  if (!(o.duration > 0)) throw new Error('bench reference: --duration expects seconds > 0');
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new Error('bench reference: --rounds expects an integer >= 1');
  return o;
}

/** The reference's prioritised executor split (autoware_default_prioritized.cpp), by node. */
const EXECUTORS: Record<string, string[]> = {
  front: ['FrontLidarDriver', 'PointsTransformerFront'],
  rear: ['RearLidarDriver', 'PointsTransformerRear'],
  fusion: ['PointCloudFusion', 'RayGroundFilter', 'EuclideanClusterDetector', 'ObjectCollisionEstimator'],
  planner: ['BehaviorPlanner'],
};
const RANK: Record<string, number> = { front: 2, rear: 2, fusion: 2, planner: 3, other: 0 };

/** The reference node a stage belongs to: its module (a timer or a connection shares its node's). */
const nodeOf = (g: Graph, i: number) => g.stages[i]!.module;

/** On an executor thread when the stage has a worker implementation; else (a sensor stamp) on the main thread. */
const onThread = (g: Graph, i: number, xpu: string, priority: number, group: string): StagePlacement =>
  g.stages[i]!.impls.some((x) => x.name === 'worker') ? { impl: 'worker', xpu, priority, group } : { impl: 'js', xpu: 'main', priority, group };

function singleThreaded(g: Graph): ExecPlan {
  return {
    name: 'single-threaded',
    placements: g.stages.map((): StagePlacement => ({ impl: 'js', xpu: 'main', priority: 0, group: 'executor' })),
  };
}

function multiThreaded(g: Graph): ExecPlan {
  return {
    name: 'multi-threaded',
    // A node's default callback group is mutually exclusive; the intersection gives each connection its own.
    placements: g.stages.map((s, i) => onThread(g, i, 'pool', 0, s.def.type === 'reference/intersection' ? s.name : s.module)),
  };
}

function prioritised(g: Graph): ExecPlan {
  return {
    name: 'prioritised',
    placements: g.stages.map((_, i): StagePlacement => {
      const exe = Object.keys(EXECUTORS).find((k) => EXECUTORS[k]!.includes(nodeOf(g, i))) ?? 'other';
      return onThread(g, i, `exe-${exe}`, RANK[exe]!, exe);
    }),
  };
}

/** One thread per single-threaded executor of the prioritised configuration. */
function executorThreads(): XpuInfo[] {
  return [...Object.keys(EXECUTORS), 'other'].map((k) => ({ id: `exe-${k}`, kind: 'cpu', backend: 'worker', lanes: 1, real: true, note: `executor thread '${k}'` }));
}

/** One round of one execution. */
interface Round {
  hot?: StatJson;
  drops: number;
  bp?: StatJson;
  transformDrops: number;
  frontLost: number;
  cpuMs: number;
  wallMs: number;
  lines: string[];
}

interface StatJson {
  count: number;
  p50: number;
  max: number;
  average: number;
  deviation: number;
  total?: number;
}

async function runRound(graph: Graph, plan: ExecPlan, xpus: XpuInfo[], durationS: number): Promise<Round> {
  counters.reset();
  const ex = new Executor(graph, plan, { xpus, durationS, codec: plan.serializeBetweenModules ? new ModuleCodec(log) : undefined, log });
  await ex.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await ex.run();
  } finally {
    await ex.close();
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const rep = ex.report();
  const section = (rep.sections[SECTION] ?? {}) as Record<string, Record<string, unknown>>;
  const dbw = section.VehicleDBWSystem ?? {};
  const runs = (name: string) => rep.stages.find((s) => s.name === name)?.runs ?? 0;
  return {
    hot: dbw.hot_path_latency_ms as StatJson | undefined,
    drops: (dbw.hot_path_drops as StatJson | undefined)?.total ?? 0,
    bp: dbw.behavior_planner_period_ms as StatJson | undefined,
    transformDrops: rep.stages.filter((s) => s.type === 'reference/transform').reduce((n, s) => n + s.drops, 0),
    frontLost: runs('FrontLidarDriver') - runs('ObjectCollisionEstimator'),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    lines: Object.values(section).flatMap((v) => (v.lines as string[] | undefined) ?? []),
  };
}

interface Kpis {
  name: string;
  /** Median of the rounds' medians. */
  hotP50: number;
  hotMax: number;
  hotDrops: number;
  bpMean: number;
  /** Pooled over the rounds' samples. */
  bpDev: number;
  transformDrops: number;
  frontLost: number;
  cpu: number;
  lines: string[];
}

const median = (v: number[]) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** Mean and sample deviation of the union of groups given as (count, mean, deviation). */
function pooled(groups: StatJson[]): { mean: number; dev: number } {
  const g = groups.filter((x) => x.count > 0);
  const n = g.reduce((a, x) => a + x.count, 0);
  if (n === 0) return { mean: NaN, dev: NaN };
  const mean = g.reduce((a, x) => a + x.count * x.average, 0) / n;
  const ss = g.reduce((a, x) => a + (x.count > 1 ? (x.count - 1) * x.deviation ** 2 : 0) + x.count * (x.average - mean) ** 2, 0);
  return { mean, dev: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN };
}

function combine(name: string, rounds: Round[]): Kpis {
  const sum = (k: 'drops' | 'transformDrops' | 'frontLost' | 'cpuMs' | 'wallMs') => rounds.reduce((a, r) => a + r[k], 0);
  const bp = pooled(rounds.flatMap((r) => (r.bp ? [r.bp] : [])));
  return {
    name,
    hotP50: median(rounds.map((r) => r.hot?.p50 ?? NaN)),
    hotMax: Math.max(...rounds.map((r) => r.hot?.max ?? NaN)),
    hotDrops: sum('drops'),
    bpMean: bp.mean,
    bpDev: bp.dev,
    transformDrops: sum('transformDrops'),
    frontLost: sum('frontLost'),
    cpu: (sum('cpuMs') / sum('wallMs')) * 100,
    lines: rounds.at(-1)!.lines,
  };
}

async function runCalibration(): Promise<void> {
  const rows = [['maximum_number', 'js ms', 'native ms']];
  let at4096: { js: number; native: number } | undefined;
  for (const r of calibrate()) {
    rows.push([String(r.limit), f(r.jsMs, 3), f(r.nativeMs, 3)]);
    if (r.limit === 4096) at4096 = { js: r.jsMs, native: r.nativeMs };
  }
  console.log('number cruncher run time per limit on this host (shared machine: noisy)');
  console.log(table(rows));
  console.log(JSON.stringify({ bench: 'reference-calibrate', js_ms_at_4096: Number(f(at4096?.js, 3)), native_ms_at_4096: Number(f(at4096?.native, 3)) }));
}

export default async function main(args: string[]): Promise<void> {
  if (args[0] === 'calibrate') return runCalibration();
  const o = parse(args);
  const file = join(packageRoot(), 'launch', 'reference-system.launch.yaml');
  const graphWith = async (extra: Record<string, string>) => {
    const desc = loadLaunchFile(file, { args: { ...parseLaunchArgs(o.launchArgs).args, ...extra } });
    return buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  };
  const graph = await graphWith({});
  // The same planner with the crunching nodes kept off the main thread (crunch_impl:=worker,native):
  // a crunch on the event loop delays the completions of every stage running elsewhere.
  const offMain = await graphWith({ crunch_impl: 'worker,native' });
  const cores = availableParallelism();
  const host = await discoverXpus({ workers: o.workers });
  const pool = await discoverXpus({ workers: o.workers ?? cores });
  const xautoPlan = (await resolvePlan(graph, host, 'xauto', { log, progress: true })).plan;
  const offMainPlan = { ...(await resolvePlan(offMain, host, 'xauto', { log, progress: true })).plan, name: 'xauto, crunch off main' };
  const configs: Array<{ plan: ExecPlan; xpus: XpuInfo[]; graph: Graph }> = [
    { plan: xautoPlan, xpus: host, graph },
    { plan: singleThreaded(graph), xpus: host, graph },
    { plan: multiThreaded(graph), xpus: pool, graph },
    { plan: prioritised(graph), xpus: [...host, ...executorThreads()], graph },
    { plan: offMainPlan, xpus: host, graph: offMain },
    // The xauto plan with every timer at phase 0 (released together, as ROS2 timers created
    // together are): what the planner's timer phases are worth, side by side.
    { plan: { ...xautoPlan, name: 'xauto, timers in phase', placements: xautoPlan.placements.map(({ phaseMs: _, ...p }) => p) }, xpus: host, graph },
  ];
  // The simulator's hot path for each, on the profile the planner used (cached by now).
  const profiles = new Map<Graph, Awaited<ReturnType<typeof measureProfile>>>();
  for (const g of [graph, offMain]) profiles.set(g, await measureProfile(g, host, { log }));
  const predicted = configs.map((c) => predictReference(c.graph, c.plan, c.xpus, profiles.get(c.graph)!, o.duration));
  const rounds: Round[][] = configs.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (const [i, c] of configs.entries()) {
      log(`bench reference: round ${r + 1}/${o.rounds}: ${c.plan.name} for ${(o.duration / o.rounds).toFixed(1)} s`);
      rounds[i]!.push(await runRound(c.graph, c.plan, c.xpus, o.duration / o.rounds));
    }
  }
  const results = configs.map((c, i) => combine(c.plan.name, rounds[i]!));
  const single = results[1]!;
  const x = results[0]!;
  console.log(
    `Autoware reference system: ${o.duration} s per execution in ${o.rounds} interleaved rounds; ${cores} cores shared with other work, load average ${loadavg()[0]!.toFixed(1)} (figures are noisy)`,
  );
  console.log(
    table([
      ['execution', 'hot p50 ms', 'predicted', 'hot max ms', 'predicted', 'hot drops', 'BP period ms', 'BP dev ms', 'predicted', 'transform drops', 'front lost', 'CPU %'],
      ...results.map((r, i) => [
        r.name,
        f(r.hotP50),
        f(predicted[i]!.hot.p50),
        f(r.hotMax),
        f(predicted[i]!.hot.max),
        f(r.hotDrops, 0),
        f(r.bpMean),
        f(r.bpDev),
        f(predicted[i]!.period.deviation),
        String(r.transformDrops),
        String(r.frontLost),
        f(r.cpu, 0),
      ]),
    ]),
  );
  console.log('hot: FrontLidarDriver/RearLidarDriver -> ObjectCollisionEstimator as VehicleDBWSystem sees it (p50: median of the rounds\' medians); drops: sequence gaps on the hot path, summed;');
  console.log('transform drops: messages overwritten in transform inputs (keep-last 1); front lost: FrontLidarDriver samples that never reached ObjectCollisionEstimator');
  console.log("predicted: the simulator on this host's profile, sampled run times, no other load (other work on the host shows in the measured max first)");
  console.log(`xauto plan, last round, as the reference prints it:\n${x.lines.join('\n')}`);
  console.log('ratios: single-threaded / xauto (above 1: xauto lower)');
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  console.log(
    JSON.stringify({
      bench: 'reference',
      hot_path_p50_ratio_vs_single: ratio(single.hotP50, x.hotP50),
      hot_path_max_ratio_vs_single: ratio(single.hotMax, x.hotMax),
      hot_path_drops: x.hotDrops,
      bp_period_dev_ms: Number(f(x.bpDev, 3)),
      off_main_hot_path_p50_ratio_vs_single: ratio(single.hotP50, results[4]!.hotP50),
      hot_path_p50_predicted_over_measured: ratio(predicted[0]!.hot.p50, x.hotP50),
      hot_path_max_in_phase_over_phased: ratio(results[5]!.hotMax, x.hotMax),
      xauto_timer_phases_ms: Object.fromEntries(xautoPlan.placements.flatMap((p, i) => (p.phaseMs ? [[graph.stages[i]!.name, Number(p.phaseMs.toFixed(2))]] : []))),
    }),
  );
}
