// Scheduling: profiles, the XAUTO planner, the module-level baseline, the lower bound and
// the simulator, wired together for `xauto plan` and `xauto launch --plan`.
import { readFileSync } from 'node:fs';
import type { MessageCodec } from '../exec/executor.js';
import { defaultPlan, type ExecPlan, type StagePlacement } from '../exec/plan.js';
import type { Graph } from '../graph/graph.js';
import type { DeclaredBoard } from '../xpu/declared.js';
import { runsOn, type XpuInfo } from '../xpu/types.js';
import { ipcPlanName, moduleBaseline, moduleIpcBaseline, lowerBound, type ContainerExecutor, type LowerBound, type ModuleBaseline } from './baseline.js';
import { buildModel, declaredProfile, toExecPlan, unplaceable } from './build.js';
import { ModuleCodec } from './codec.js';
import type { Assignment, CostModel } from './model.js';
import { nextBest, planXauto, type PlannerResult } from './planner.js';
import { measureProfile, type Profile } from './profile.js';
import { simulate, type SimResult } from './simulate.js';

export { moduleBaseline, moduleIpcBaseline, ipcPlanName, lowerBound, type ContainerExecutor } from './baseline.js';
export { attributeGain, gainAssignments, gainChain, type GainPlan, type GainStep } from './breakdown.js';
export { buildModel, declaredProfile, toExecPlan } from './build.js';
export { ModuleCodec } from './codec.js';
export type { Assignment, CostModel, ModelStage, ModelXpu, ModelPort } from './model.js';
export { planXauto, nextBest, estimate } from './planner.js';
export { measureProfile, type Profile } from './profile.js';
export { simulate, type SimResult, type SimOptions } from './simulate.js';

export type Fallback = (stage: number, failed: StagePlacement) => StagePlacement | undefined;

export interface ResolveOptions {
  reprofile?: boolean;
  /** Worker-pool size the XPU set was discovered with (informational: lanes come from `xpus`). */
  workers?: number;
  log?: (line: string) => void;
  /** Progress bar while profiling. */
  progress?: boolean;
  /** How the run will go: at the sources' rates (default) or saturated; the profile's times follow (ProfileOptions.at). */
  at?: 'rate' | 'saturation';
}

export class PlanFileError extends Error {
  override name = 'PlanFileError';
}

/**
 * The plan `xauto launch --plan SPEC` runs: `xauto` (planned), `module` (the ROS2-style
 * baseline), `module-ipc` / `module-ipc-mt` (composable nodes in one container, single- or
 * multi-threaded executor), `default`, or a PLAN.json file; with the fallback the executor
 * calls when a stage keeps failing.
 */
export async function resolvePlan(
  graph: Graph,
  xpus: XpuInfo[],
  spec: 'xauto' | 'module' | 'module-ipc' | 'module-ipc-mt' | 'default' | string,
  opts: ResolveOptions = {},
): Promise<{ plan: ExecPlan; fallback?: Fallback; codec?: MessageCodec; timeout?: Deadline }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const real = xpus.filter((x) => x.real);
  const simulated = xpus.filter((x) => !x.real);
  if (simulated.length) log(`xauto: ignoring simulated XPUs ${simulated.map((x) => x.id).join(', ')} (a run uses real XPUs only)`);
  if (spec === 'default') return { plan: defaultPlan(graph, real) };
  if (!isPlannedSpec(spec)) {
    const plan = readPlanFile(spec, graph, real);
    return { plan, codec: plan.serializeBetweenModules ? new ModuleCodec(log) : undefined };
  }

  const profile = await measureProfile(graph, real, { reprofile: opts.reprofile, log, progress: opts.progress, at: opts.at });
  const unmeasured: string[] = [];
  const model = buildModel(graph, real, profile, { nominalMs: 1, unmeasured });
  if (unmeasured.length) log(`xauto: could not profile ${unmeasured.join(', ')} (no sample input, e.g. fed from ROS2): planned at a nominal 1 ms`);
  const missing = unplaceable(model);
  if (missing.length) throw new Error(`no measured option on this host's XPUs for: ${missing.join(', ')}`);
  let a: Assignment;
  if (spec === 'xauto') {
    const r = planXauto(model);
    a = r.assignment;
    log(`xauto: planned ${graph.stages.length} stages (${r.method}${r.method === 'exact' && !r.complete ? ', budget reached' : ''}${r.refined ? ', refined by simulation' : ''}) in ${r.planMs.toFixed(1)} ms`);
    for (const k of r.ticks) log(`xauto: ${model.stages[k.stage]!.name} ticks late by up to ${k.lateMs.toFixed(2)} ms in the simulation (slack ${k.slackMs.toFixed(2)} ms)`);
  } else if (spec === 'module') {
    a = moduleBaseline(model).assignment;
  } else {
    a = moduleIpcBaseline(model, containerOf(spec)).assignment;
  }
  const plan = toExecPlan(model, a, spec);
  return { plan, fallback: makeFallback(model, a, log), codec: plan.serializeBetweenModules ? new ModuleCodec(log) : undefined, timeout: deadlines(model) };
}

/** Plan specs resolved by planning on a profile (the rest name a plan file or `default`). */
export const plannedSpecs = ['xauto', 'module', 'module-ipc', 'module-ipc-mt'] as const;

export function isPlannedSpec(spec: string): spec is (typeof plannedSpecs)[number] {
  return (plannedSpecs as readonly string[]).includes(spec);
}

function containerOf(spec: string): ContainerExecutor {
  return spec === ipcPlanName.multi ? 'multi' : 'single';
}

/** How long one run of a placement may take: the executor's `timeout` option. */
export type Deadline = (stage: number, placement: StagePlacement) => number | undefined;

/** Deadlines from the profile: 50 times the slowest measured run, at least a second. */
export function deadlines(model: CostModel): Deadline {
  return (stage, p) => {
    const o = model.stages[stage]?.options.find((x) => x.impl === p.impl && model.xpus[x.xpu]!.id === p.xpu);
    if (!o) return undefined;
    const slowest = o.lat.q ? o.lat.q[o.lat.q.length - 1]! : o.lat.p50;
    return Math.max(1000, Math.ceil(50 * slowest));
  };
}

/**
 * Runtime fallback: the next-best option of a failing stage, every other stage kept where it
 * is; options that failed before are never offered again.
 */
export function makeFallback(model: CostModel, a: Assignment, log: (l: string) => void = () => {}): Fallback {
  const option = [...a.option];
  const failed = model.stages.map(() => new Set<number>());
  return (stage, bad) => {
    const s = model.stages[stage];
    if (!s) return undefined;
    const badIdx = s.options.findIndex((o) => o.impl === bad.impl && model.xpus[o.xpu]!.id === bad.xpu);
    if (badIdx >= 0) failed[stage]!.add(badIdx);
    const next = nextBest(model, option, stage, failed[stage]!);
    // None left: the executor says so once and marks the stage failed.
    if (next < 0) return undefined;
    option[stage] = next;
    const o = s.options[next]!;
    const p: StagePlacement = { impl: o.impl, xpu: model.xpus[o.xpu]!.id, priority: bad.priority };
    if (bad.group !== undefined) p.group = bad.group;
    return p;
  };
}

/** Reads a plan file: `{placements: [{stage?, impl, xpu, priority?, group?, phaseMs?}, ...]}` (by stage name or index). */
export function readPlanFile(file: string, graph: Graph, xpus: XpuInfo[]): ExecPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new PlanFileError(`${file}: ${why}; expected 'xauto', 'module', 'module-ipc', 'module-ipc-mt', 'default' or a plan JSON file`);
  }
  const obj = raw as { name?: unknown; placements?: unknown; serializeBetweenModules?: unknown; plans?: unknown };
  // `xauto plan --json` output holds several plans: take the xauto one.
  const src = (obj.plans as Record<string, unknown> | undefined)?.xauto ?? obj;
  const list = (src as { placements?: unknown }).placements;
  if (!Array.isArray(list)) throw new PlanFileError(`${file}: expected {"placements": [{"stage", "impl", "xpu"}, ...]}`);
  const placements: Array<StagePlacement | undefined> = graph.stages.map(() => undefined);
  list.forEach((p: unknown, i: number) => {
    const e = p as { stage?: unknown; impl?: unknown; xpu?: unknown; priority?: unknown; group?: unknown; phaseMs?: unknown };
    const where = `${file}: placements[${i}]`;
    const idx = typeof e.stage === 'string' ? graph.stages.findIndex((s) => s.name === e.stage) : typeof e.stage === 'number' ? e.stage : i;
    const s = graph.stages[idx];
    if (!s) throw new PlanFileError(`${where}: unknown stage ${JSON.stringify(e.stage)}; expected one of ${graph.stages.map((x) => x.name).join(', ')}`);
    if (typeof e.impl !== 'string' || typeof e.xpu !== 'string') throw new PlanFileError(`${where}: expected string fields "impl" and "xpu"`);
    const impl = s.impls.find((x) => x.name === e.impl);
    if (!impl) throw new PlanFileError(`${where}: '${s.name}' has no implementation '${e.impl}'; expected one of ${s.impls.map((x) => x.name).join(', ')}`);
    const x = xpus.find((y) => y.id === e.xpu);
    if (!x) throw new PlanFileError(`${where}: no XPU '${e.xpu}' on this host; expected one of ${xpus.map((y) => y.id).join(', ')}`);
    if (!runsOn(impl, x)) throw new PlanFileError(`${where}: implementation '${impl.name}' (${impl.backend}/${impl.xpu}) cannot run on '${x.id}'`);
    const placement: StagePlacement = { impl: impl.name, xpu: x.id, priority: typeof e.priority === 'number' ? e.priority : s.priority };
    if (typeof e.group === 'string') placement.group = e.group;
    if (typeof e.phaseMs === 'number' && e.phaseMs > 0) placement.phaseMs = e.phaseMs;
    placements[idx] = placement;
  });
  const gaps = graph.stages.filter((_, i) => !placements[i]);
  if (gaps.length) throw new PlanFileError(`${file}: no placement for ${gaps.map((s) => `'${s.name}'`).join(', ')}`);
  return {
    name: typeof (src as { name?: unknown }).name === 'string' ? ((src as { name: string }).name) : file,
    placements: placements as StagePlacement[],
    serializeBetweenModules: (src as { serializeBetweenModules?: unknown }).serializeBetweenModules === true,
  };
}

export interface PlanComparison {
  model: CostModel;
  profile: Profile;
  xpus: XpuInfo[];
  xauto: { planner: PlannerResult; plan: ExecPlan; sim: SimResult };
  module: { baseline: ModuleBaseline; plan: ExecPlan; sim: SimResult };
  /** Composable nodes in one container: single-threaded executor. */
  moduleIpc: { baseline: ModuleBaseline; plan: ExecPlan; sim: SimResult };
  /** The same with a multi-threaded executor. */
  moduleIpcMt: { baseline: ModuleBaseline; plan: ExecPlan; sim: SimResult };
  bound: LowerBound;
}

export interface CompareOptions extends ResolveOptions {
  /** Declared boards: plan on their (simulated) XPUs instead of this host's. */
  boards?: DeclaredBoard[];
  /** Frames per source for the simulated predictions (default 200). */
  frames?: number;
  seed?: number;
}

/** Plans with XAUTO and with the module baselines, predicts them by simulation, and bounds them. */
export async function comparePlans(graph: Graph, xpus: XpuInfo[], opts: CompareOptions = {}): Promise<PlanComparison> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const declared = xpus.filter((x) => !x.real);
  const use = declared.length ? declared : xpus;
  const profile = declared.length
    ? declaredProfile(graph, use, opts.boards ?? [])
    : await measureProfile(graph, use, { reprofile: opts.reprofile, log, progress: opts.progress, at: opts.at });
  const unmeasured: string[] = [];
  const model = buildModel(graph, use, profile, { nominalMs: 1, unmeasured });
  if (unmeasured.length) log(`xauto: could not profile ${unmeasured.join(', ')} (no sample input, e.g. fed from ROS2): planned at a nominal 1 ms`);
  const missing = unplaceable(model);
  if (missing.length) {
    throw new Error(
      declared.length
        ? `the declared profile gives no latency on these XPUs for: ${missing.join(', ')} (add them under 'latency:' by XNODE type)`
        : `no measured option on this host's XPUs for: ${missing.join(', ')}`,
    );
  }
  return compareOnModel(model, profile, use, opts);
}

export function compareOnModel(model: CostModel, profile: Profile, xpus: XpuInfo[], opts: { frames?: number; seed?: number } = {}): PlanComparison {
  const planner = planXauto(model);
  const base = moduleBaseline(model);
  const ipc = moduleIpcBaseline(model, 'single');
  const ipcMt = moduleIpcBaseline(model, 'multi');
  const sim = (a: Assignment) => simulate(model, a, { frames: opts.frames ?? 200, sample: true, seed: opts.seed ?? 1, warmup: 5 });
  return {
    model,
    profile,
    xpus,
    xauto: { planner, plan: toExecPlan(model, planner.assignment, 'xauto'), sim: sim(planner.assignment) },
    module: { baseline: base, plan: toExecPlan(model, base.assignment, 'module'), sim: sim(base.assignment) },
    moduleIpc: { baseline: ipc, plan: toExecPlan(model, ipc.assignment, ipcPlanName.single), sim: sim(ipc.assignment) },
    moduleIpcMt: { baseline: ipcMt, plan: toExecPlan(model, ipcMt.assignment, ipcPlanName.multi), sim: sim(ipcMt.assignment) },
    bound: lowerBound(model),
  };
}
