// `npm run bench -- schedule [name:=value ...] [--frames N] [--rounds R] [--workers N] [--cached]`
//
// XAUTO planning against the module-level (ROS2-style) baseline and the lower bound, all in
// one run:
//  1. on this host: profile the perception pipeline (fresh unless --cached), plan it both
//     ways, then run both plans for real, side by side — interleaved rounds of the same
//     frames at the sources' rates — and compare the measured end-to-end p50s; the simulator's
//     prediction for the xauto plan is checked against its measurement;
//  2. on the declared embedded board (profiles/board.yaml): the same two ratios, simulated;
//  3. planning time for random pipelines of 30 and 500 stages;
//  4. the planner's fast estimate (evaluate.ts) against the dispatch core's simulation, on
//     random pipelines and assignments.
import { availableParallelism, loadavg, setPriority } from 'node:os';
import { join } from 'node:path';
import { buildGraph, type Graph } from '../runtime/graph/index.js';
import { loadLaunchFile, parseLaunchArgs } from '../runtime/launch/index.js';
import { Executor } from '../runtime/exec/executor.js';
import type { ExecPlan } from '../runtime/exec/plan.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { buildModel, compareOnModel, declaredProfile, measureProfile, ModuleCodec, planXauto, simulate, type PlanComparison } from '../runtime/schedule/index.js';
import { estimate } from '../runtime/schedule/planner.js';
import { priorities, prepare, upwardRank } from '../runtime/schedule/evaluate.js';
import { mulberry32 } from '../runtime/util/random.js';
import { pipelinePeriod } from '../runtime/schedule/model.js';
import { randomPipeline } from '../runtime/schedule/synthetic.js';
import { counters } from '../runtime/trace/counters.js';
import { table } from '../runtime/trace/report.js';
import { summarize } from '../runtime/trace/stats.js';
import { packageRoot } from '../runtime/util/paths.js';
import { loadDeclaredBoard } from '../runtime/xpu/declared.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import type { XpuInfo } from '../runtime/xpu/types.js';

interface Opts {
  launchArgs: string[];
  frames: number;
  rounds: number;
  workers?: number;
  cached: boolean;
  /** Raise this process's scheduling priority (nice) so other load on the host disturbs less. */
  priority: boolean;
}

function parse(args: string[]): Opts {
  const o: Opts = { launchArgs: [], frames: 80, rounds: 4, cached: false, priority: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.includes(':=')) o.launchArgs.push(a);
    else if (a === '--frames') o.frames = Number(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--workers') o.workers = Number(args[++i]);
    else if (a === '--cached') o.cached = true;
    else if (a === '--priority') o.priority = true;
    else throw new Error(`bench schedule: unknown argument '${a}'; expected name:=value, --frames N, --rounds R, --workers N, --cached, --priority`);
  }
  return o;
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const log = (l: string) => process.stderr.write(l + '\n');

/** Runs a plan for real at the sources' rates; returns the e2e samples (ms) after warm-up, and each stage's run times. */
async function runReal(
  graph: Graph,
  plan: ExecPlan,
  xpus: XpuInfo[],
  frames: number,
): Promise<{ e2e: number[]; runs: number[][]; drops: number; overruns: number; fallbacks: number }> {
  counters.reset();
  const ex = new Executor(graph, plan, { xpus, frames, realtime: true, codec: plan.serializeBetweenModules ? new ModuleCodec(log) : undefined, log });
  await ex.start();
  try {
    await ex.run();
  } finally {
    await ex.close();
  }
  const e2e: number[] = [];
  for (const s of ex.tracer.e2e.values()) e2e.push(...s.values().subarray(Math.min(3, s.count))); // first frames warm the JIT
  const rep = ex.report();
  return {
    e2e,
    runs: ex.tracer.stageRun.map((s) => [...s.values()]),
    drops: rep.stages.reduce((n, s) => n + s.drops, 0),
    overruns: rep.sources.reduce((n, s) => n + s.overruns, 0),
    fallbacks: counters.get('exec.fallbacks'),
  };
}

function planTime(n: number): { median: number; cpu: number; method: string } {
  for (let k = 0; k < 3; k++) planXauto(randomPipeline(n, 100 + k)); // steady state: the JIT has compiled the planner
  const wall: number[] = [];
  const cpu: number[] = [];
  let method = '';
  for (let k = 0; k < 7; k++) {
    const c0 = process.cpuUsage();
    const r = planXauto(randomPipeline(n, 11 + k));
    const c = process.cpuUsage(c0);
    wall.push(r.planMs);
    cpu.push((c.user + c.system) / 1000);
    method = r.method;
  }
  return { median: summarize(wall).p50, cpu: summarize(cpu).p50, method };
}

/**
 * The fast estimate against the simulation it stands in for: mean e2e at the sources' rates
 * for random assignments of random pipelines; the relative error's distribution.
 */
function estimateErrors(pipelines: number): number[] {
  const errs: number[] = [];
  const rand = mulberry32(77);
  for (let k = 0; k < pipelines; k++) {
    const m = randomPipeline(8 + (k % 9), 500 + k);
    const option = m.stages.map((s) => Math.floor(rand() * s.options.length));
    const sc = prepare(m);
    const est = estimate(m, option, sc);
    const sim = simulate(m, { option, priority: priorities(m, upwardRank(m, sc, option)) }, { frames: 40, warmup: 3 });
    // Overloaded assignments carry the estimate's penalty: compare only those the XPUs keep up with.
    if (sim.overruns > 0 || !(sim.e2e.mean > 0)) continue;
    errs.push(Math.abs(est - sim.e2e.mean) / sim.e2e.mean);
  }
  return errs.sort((a, b) => a - b);
}

/** How far the heuristic (HEFT + local search) lands from exact search, on small graphs. */
function optimalityGap(): { mean: number; worst: number } {
  let sum = 0;
  let worst = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const m = randomPipeline(10, 1000 + seed);
    const exact = planXauto(m, { method: 'exact', budgetMs: 5000 }).estimateMs;
    const heur = planXauto(m, { method: 'heuristic' }).estimateMs;
    const g = heur / exact - 1;
    sum += g;
    worst = Math.max(worst, g);
  }
  return { mean: sum / 20, worst };
}

export default async function main(args: string[]): Promise<void> {
  const o = parse(args);
  let niced = 'normal priority';
  if (o.priority) {
    // Threads started from here on (worker pools, native threads) inherit it.
    try {
      setPriority(-10);
      niced = 'raised priority (nice -10)';
    } catch (e) {
      niced = `normal priority (raising it failed: ${(e as Error).message})`;
    }
  }
  const file = join(packageRoot(), 'launch', 'perception.launch.yaml');
  const desc = loadLaunchFile(file, { args: parseLaunchArgs(o.launchArgs).args });
  const registry = await loadRegistry({ types: desc.xnodes.map((x) => x.type) });
  const graph = buildGraph(desc, registry);
  // One worker per core by default: the two sensor sources are the heaviest stages and each
  // needs a thread of its own to run in parallel (`--workers N` to change it).
  const xpus = await discoverXpus({ workers: o.workers ?? availableParallelism() });

  // 1. This host: profile, plan, predict, then measure both plans.
  const profile = await measureProfile(graph, xpus, { reprofile: !o.cached, log });
  const host: PlanComparison = compareOnModel(buildModel(graph, xpus, profile), profile, xpus, { frames: o.frames * o.rounds });
  const loadBefore = loadavg()[0]!;
  log(`bench schedule: ${graph.stages.length} stages; running plans 'xauto' and 'module' for ${o.rounds} interleaved rounds of ${o.frames} frames per source`);
  await runReal(graph, host.xauto.plan, xpus, 8); // warm-up of both plans' code paths
  await runReal(graph, host.module.plan, xpus, 8);
  const measured = { xauto: [] as number[], module: [] as number[] };
  const perRound = { xauto: [] as number[], module: [] as number[], xautoP90: [] as number[] };
  const facts = { xauto: { drops: 0, overruns: 0 }, module: { drops: 0, overruns: 0 } };
  const stageRuns: number[][] = graph.stages.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (const name of r % 2 === 0 ? (['xauto', 'module'] as const) : (['module', 'xauto'] as const)) {
      const res = await runReal(graph, host[name].plan, xpus, o.frames);
      measured[name].push(...res.e2e);
      const sum = summarize(res.e2e);
      perRound[name].push(sum.p50);
      if (name === 'xauto') perRound.xautoP90.push(sum.p90);
      if (name === 'xauto') res.runs.forEach((r, v) => stageRuns[v]!.push(...r));
      facts[name].drops += res.drops;
      facts[name].overruns += res.overruns;
    }
  }
  const loadAfter = loadavg()[0]!;
  const mx = summarize(measured.xauto);
  const mm = summarize(measured.module);
  const bound = host.bound.p50;
  const period = pipelinePeriod(host.model);
  const simErr = Math.abs(host.xauto.sim.e2e.p50 - mx.p50) / mx.p50;
  const simErrModule = Math.abs(host.module.sim.e2e.p50 - mm.p50) / mm.p50;
  const simErrP90 = Math.abs(host.xauto.sim.e2e.p90 - mx.p90) / mx.p90;

  // What separates xauto from the bound, measured in the model: the same plan with every stage
  // at exactly its p50 (no run-time variance) against the sampled distributions.
  const steady = simulate(host.model, host.xauto.planner.assignment, { frames: o.frames * o.rounds, warmup: 5 });

  // 2. The declared board, simulated.
  const boardFile = join(packageRoot(), 'profiles', 'board.yaml');
  const board = loadDeclaredBoard(boardFile);
  const bp = declaredProfile(graph, board.xpus, [board]);
  const sim = compareOnModel(buildModel(graph, board.xpus, bp), bp, board.xpus, { frames: 300 });

  // 3. Planning time.
  const t30 = planTime(30);
  const t500 = planTime(500);
  const gap = optimalityGap();
  const estErr = estimateErrors(60);
  const q = (a: number[], p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * (a.length - 1)))]! : NaN);

  const m = host.model;
  const rows = [['stage', 'xauto (host)', 'module (host)', 'xauto (board)', 'module (board)']];
  m.stages.forEach((s, v) => {
    const at = (c: PlanComparison, which: 'xauto' | 'module') => {
      const p = c[which].plan.placements[v]!;
      return `${p.impl}@${p.xpu}`;
    };
    rows.push([s.name, at(host, 'xauto'), at(host, 'module'), at(sim, 'xauto'), at(sim, 'module')]);
  });
  process.stdout.write(`\nplacements (${graph.stages.length} stages of ${desc.file}; host XPUs real, board XPUs simulated)\n${table(rows, 99)}\n\n`);
  const res = [
    ['e2e p50 (ms)', 'xauto', 'module', 'lower bound', 'module/xauto', 'xauto/bound'],
    ['host, measured', f(mx.p50), f(mm.p50), f(bound), f(mm.p50 / mx.p50), f(mx.p50 / bound)],
    ['host, simulated', f(host.xauto.sim.e2e.p50), f(host.module.sim.e2e.p50), f(bound), f(host.module.sim.e2e.p50 / host.xauto.sim.e2e.p50), f(host.xauto.sim.e2e.p50 / bound)],
    ['board, simulated', f(sim.xauto.sim.e2e.p50), f(sim.module.sim.e2e.p50), f(sim.bound.p50), f(sim.module.sim.e2e.p50 / sim.xauto.sim.e2e.p50), f(sim.xauto.sim.e2e.p50 / sim.bound.p50)],
  ];
  // Diagnostic only (the figures above use every frame): frames whose inputs come from the
  // same sensor period, i.e. not carrying a camera/lidar pairing shifted by an earlier loss.
  const ax = summarize(measured.xauto.filter((v) => v <= period));
  const am = summarize(measured.module.filter((v) => v <= period));
  res.push([`host, measured, aligned frames only (${ax.count}/${am.count})`, f(ax.p50), f(am.p50), f(bound), f(am.p50 / ax.p50), f(ax.p50 / bound)]);
  process.stdout.write(table(res, 1) + '\n\n');
  // Where the measurement leaves the model: each stage's run time under the xauto plan as
  // profiled alone, as the simulator predicts it inside the pipeline (event-loop and core
  // sharing included), and as measured in the runs above.
  const stageRows = [['stage (xauto plan)', 'impl@xpu', 'profiled p50', 'simulated p50', 'measured p50', 'measured/simulated']];
  m.stages.forEach((s, v) => {
    const o = s.options[host.xauto.planner.assignment.option[v]!]!;
    const simRun = host.xauto.sim.stages[v]!.run.p50;
    const real = summarize(stageRuns[v]!).p50;
    stageRows.push([s.name, `${o.impl}@${m.xpus[o.xpu]!.id}`, f(o.lat.p50), f(simRun), f(real), f(real / simRun)]);
  });
  process.stdout.write(`run time per stage (ms)\n${table(stageRows, 2)}\n\n`);
  // The spread over rounds: how much of a difference between runs is noise on this host.
  const roundRows = [['round', 'xauto p50', 'module p50', 'module/xauto', 'xauto p90', 'sim error p50', 'sim error p90']];
  perRound.xauto.forEach((x, r) => {
    const mo = perRound.module[r]!;
    const p90 = perRound.xautoP90[r]!;
    roundRows.push([String(r + 1), f(x), f(mo), f(mo / x), f(p90), f(Math.abs(host.xauto.sim.e2e.p50 - x) / x), f(Math.abs(host.xauto.sim.e2e.p90 - p90) / p90)]);
  });
  const ratios = perRound.xauto.map((x, r) => perRound.module[r]! / x);
  roundRows.push(['spread (min..max)', `${f(Math.min(...perRound.xauto))}..${f(Math.max(...perRound.xauto))}`, `${f(Math.min(...perRound.module))}..${f(Math.max(...perRound.module))}`, `${f(Math.min(...ratios))}..${f(Math.max(...ratios))}`, '', '', '']);
  process.stdout.write(`rounds (measured on this host, interleaved)\n${table(roundRows, 1)}\n\n`);
  process.stdout.write(
    [
      `host: ${profile.host}; effective cores ${f(profile.cores)}; XPUs ${xpus.map((x) => `${x.id}(${x.lanes})`).join(', ')}; ` +
        `load average ${f(loadBefore, 1)} before the runs, ${f(loadAfter, 1)} after (other processes share the cores); ${niced}`,
      `frames whose oldest input is more than a period old (a sensor pairing shifted by a lost frame): ` +
        `xauto ${f((100 * measured.xauto.filter((v) => v > period).length) / Math.max(1, measured.xauto.length), 1)}%, ` +
        `module ${f((100 * measured.module.filter((v) => v > period).length) / Math.max(1, measured.module.length), 1)}%`,
      `measured: xauto ${mx.count} e2e samples (p90 ${f(mx.p90)} ms, drops ${facts.xauto.drops}, overruns ${facts.xauto.overruns}); ` +
        `module ${mm.count} (p90 ${f(mm.p90)} ms, drops ${facts.module.drops}, overruns ${facts.module.overruns})`,
      `simulator vs measured e2e p50: xauto ${f(simErr * 100, 1)}% off, module ${f(simErrModule * 100, 1)}% off; p90: xauto ${f(simErrP90 * 100, 1)}% off`,
      `fast estimate vs the core's simulation (mean e2e, ${estErr.length} random pipelines the XPUs keep up with): ` +
        `error p50 ${f(q(estErr, 0.5) * 100, 1)}%, p90 ${f(q(estErr, 0.9) * 100, 1)}%, max ${f(q(estErr, 1) * 100, 1)}%`,
      `xauto on this host without run-time variance (every stage at its p50, simulated): ${f(steady.e2e.p50)} ms = ${f(steady.e2e.p50 / bound)} x bound; ` +
        `with the measured distributions: ${f(host.xauto.sim.e2e.p50 / bound)} x bound`,
      `module/bound: host measured ${f(mm.p50 / bound)}, board ${f(sim.module.sim.e2e.p50 / sim.bound.p50)} (no plan can beat module by more than this)`,
      `planning: 30 stages ${f(t30.median)} ms (${t30.method}, cpu ${f(t30.cpu)} ms), 500 stages ${f(t500.median)} ms (${t500.method}, cpu ${f(t500.cpu)} ms); ` +
        `heuristic vs exact search on 20 random 10-stage pipelines: mean gap ${f(gap.mean * 100, 2)}%, worst ${f(gap.worst * 100, 2)}%; ` +
        `perception: ${host.xauto.planner.method}${host.xauto.planner.complete ? ', optimal for its estimate' : ''}, ${f(host.xauto.planner.planMs)} ms`,
    ].join('\n') + '\n',
  );
  const out = {
    bench: 'schedule',
    module_over_xauto: round(mm.p50 / mx.p50),
    xauto_over_bound: round(mx.p50 / bound),
    sim_error: round(simErr),
    sim_error_p90: round(simErrP90),
    estimate_error: round(q(estErr, 0.5)),
    sim_board_module_over_xauto: round(sim.module.sim.e2e.p50 / sim.xauto.sim.e2e.p50),
    sim_board_xauto_over_bound: round(sim.xauto.sim.e2e.p50 / sim.bound.p50),
    plan_ms_30: round(t30.median),
    plan_ms_500: round(t500.median),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

const round = (v: number) => Math.round(v * 1000) / 1000;
