// `xauto plan FILE [name:=value ...] [--xpus profiles/X.yaml] [--json] [--reprofile] [--workers N]`:
// plans the pipeline with XAUTO and with the module-level baselines (nodes in processes,
// serialized; composable nodes in one container, single- and multi-threaded), predicts them
// by simulation, and prints them beside the lower bound. Without --xpus it plans for this
// host's real XPUs (profiling them first, or from the cache); with it, for the declared
// (simulated) board.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { comparePlans, PlanFileError, type PlanComparison } from '../schedule/index.js';
import type { Summary } from '../trace/stats.js';
import { table } from '../trace/report.js';
import { declaredFromLaunch, DeclaredError, loadDeclaredBoard, type DeclaredBoard } from '../xpu/declared.js';
import { discoverXpus } from '../xpu/discover.js';
import type { XpuInfo } from '../xpu/types.js';
import { UserError } from './errors.js';
import { graphOf, loadDescription } from './pipeline.js';

export interface PlanArgs {
  file: string;
  launchArgs: string[];
  xpus: string[];
  json: boolean;
  reprofile: boolean;
  workers?: number;
  frames: number;
  xnodes: string[];
}

const f = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '-');

export async function runPlan(a: PlanArgs): Promise<PlanComparison> {
  if (a.workers !== undefined && !(Number.isInteger(a.workers) && a.workers >= 1)) throw new UserError(`--workers ${a.workers}: expected an integer >= 1`);
  const log = (l: string) => process.stderr.write(l + '\n');
  const desc = loadDescription(a.file, a.launchArgs);
  const graph = await graphOf(desc, a.xnodes);
  let boards: DeclaredBoard[] = [];
  let declared: XpuInfo[] = [];
  try {
    boards = a.xpus.map((file) => loadDeclaredBoard(file));
    const fromLaunch = declaredFromLaunch(desc.xpus);
    boards.push(...fromLaunch.boards);
    declared = [...boards.flatMap((b) => (a.xpus.includes(b.file) ? b.xpus : [])), ...fromLaunch.xpus];
  } catch (e) {
    if (e instanceof DeclaredError) throw new UserError(e.message);
    throw e;
  }
  const ids = new Set<string>();
  for (const x of declared) {
    if (ids.has(x.id)) throw new UserError(`declared XPU '${x.id}' appears twice (in ${a.xpus.join(', ') || a.file})`);
    ids.add(x.id);
  }
  const xpus = declared.length ? declared : await discoverXpus({ workers: a.workers });
  let cmp: PlanComparison;
  try {
    cmp = await comparePlans(graph, xpus, { boards, reprofile: a.reprofile, log, progress: !a.json && process.stderr.isTTY, frames: a.frames });
  } catch (e) {
    if (e instanceof PlanFileError || e instanceof DeclaredError) throw new UserError(e.message);
    if (e instanceof Error && /no measured option|declared profile gives no latency|no XPU on this host/.test(e.message)) throw new UserError(e.message);
    throw e;
  }
  process.stdout.write((a.json ? JSON.stringify(planJson(a.file, cmp), null, 2) : renderPlan(a.file, cmp)) + '\n');
  return cmp;
}

export function renderPlan(file: string, c: PlanComparison): string {
  const m = c.model;
  const where = m.simulated
    ? `declared hardware (${c.profile.host}; every XPU simulated)`
    : `this host (${c.profile.host}; real XPUs; profile: ${c.profile.measured} measured, ${c.profile.cached} cached)`;
  const out = [`xauto plan: ${file} on ${where}`];
  out.push('xpus: ' + c.xpus.map((x) => `${x.id} (${x.kind}, ${x.lanes} lane${x.lanes === 1 ? '' : 's'}, ${x.real ? 'real' : 'simulated'})`).join(', '));
  const phase = c.xauto.planner.assignment.phase;
  const rows = [['stage', 'module', 'xauto', 'ms p50', 'prio', ...(phase ? ['phase ms'] : []), 'module plan', 'ms p50', 'fastest ms']];
  m.stages.forEach((s, v) => {
    const ox = s.options[c.xauto.planner.assignment.option[v]!]!;
    const om = s.options[c.module.baseline.assignment.option[v]!]!;
    rows.push([
      s.name,
      s.module,
      `${ox.impl}@${m.xpus[ox.xpu]!.id}`,
      f(ox.lat.p50),
      f(c.xauto.planner.assignment.priority[v]! % 1e6),
      ...(phase ? [m.stages[v]!.periodMs > 0 && (s.inputs.length === 0 || s.timer) ? f(phase[v]!) : ''] : []),
      `${om.impl}@${m.xpus[om.xpu]!.id}`,
      f(om.lat.p50),
      f(Math.min(...s.options.map((o) => o.lat.p50))),
    ]);
  });
  out.push(table(rows, 3));
  const e = (s: Summary) => `p50 ${f(s.p50)} ms, p90 ${f(s.p90)} ms`;
  const pred = [
    ['prediction (simulated e2e)', 'p50 ms', 'p90 ms', 'vs bound'],
    ['xauto', f(c.xauto.sim.e2e.p50), f(c.xauto.sim.e2e.p90), f(c.xauto.sim.e2e.p50 / c.bound.p50) + 'x'],
    ['module baseline', f(c.module.sim.e2e.p50), f(c.module.sim.e2e.p90), f(c.module.sim.e2e.p50 / c.bound.p50) + 'x'],
    ['module-ipc baseline (1 thread)', f(c.moduleIpc.sim.e2e.p50), f(c.moduleIpc.sim.e2e.p90), f(c.moduleIpc.sim.e2e.p50 / c.bound.p50) + 'x'],
    ['module-ipc-mt baseline (pool)', f(c.moduleIpcMt.sim.e2e.p50), f(c.moduleIpcMt.sim.e2e.p90), f(c.moduleIpcMt.sim.e2e.p50 / c.bound.p50) + 'x'],
    ['lower bound (critical path)', f(c.bound.p50), '', '1.00x'],
  ];
  out.push('', table(pred, 1));
  const p = c.xauto.planner;
  out.push(
    '',
    `module / xauto: ${f(c.module.sim.e2e.p50 / c.xauto.sim.e2e.p50)}x; module-ipc / xauto: ${f(c.moduleIpc.sim.e2e.p50 / c.xauto.sim.e2e.p50)}x; ` +
      `module-ipc-mt / xauto: ${f(c.moduleIpcMt.sim.e2e.p50 / c.xauto.sim.e2e.p50)}x; xauto ${e(c.xauto.sim.e2e)}; ` +
      `planner: ${p.method}${p.method === 'exact' ? (p.complete ? ' (optimal for its estimate)' : ' (budget reached)') : ' (local search)'}${p.refined ? ', refined by simulation' : ''}, ${p.evaluations} evaluations, ${f(p.planMs)} ms`,
    'baselines: module = each module a node in its own process, messages serialized; module-ipc(-mt) = the same placement as composable nodes ' +
      'in one container, messages by reference, single-threaded (multi-threaded) executor',
    'modules: ' + c.module.baseline.modules.map((x) => `${x.name} on ${x.xpu} (${x.ms.toFixed(2)} ms a frame there)`).join(', ') +
      (c.module.baseline.strays.length ? `; no option on their module's XPU: ${c.module.baseline.strays.join(', ')}` : ''),
  );
  if (c.profile.failures.length) out.push('not planned (failed when profiled): ' + c.profile.failures.map((x) => `${x.stage} ${x.at}: ${x.error}`).join('; '));
  if (m.simulated) out.push('note: all figures are simulated from the declared profile.');
  return out.join('\n');
}

/** JSON output; its top level is the xauto plan, so `xauto launch --plan FILE` can run it. */
export function planJson(file: string, c: PlanComparison): unknown {
  const m = c.model;
  const placements = (plan: PlanComparison['xauto']['plan']) =>
    plan.placements.map((p, v) => ({ stage: m.stages[v]!.name, impl: p.impl, xpu: p.xpu, priority: p.priority, ...(p.group ? { group: p.group } : {}), ...(p.phaseMs ? { phaseMs: p.phaseMs } : {}) }));
  const sum = (s: Summary) => ({ p50: s.p50, p90: s.p90, p99: s.p99 });
  return {
    name: 'xauto',
    file,
    simulated: m.simulated,
    host: c.profile.host,
    xpus: c.xpus.map((x) => ({ id: x.id, kind: x.kind, backend: x.backend, lanes: x.lanes, real: x.real })),
    placements: placements(c.xauto.plan),
    serializeBetweenModules: false,
    predicted_e2e_ms: sum(c.xauto.sim.e2e),
    planner: { method: c.xauto.planner.method, complete: c.xauto.planner.complete, refined: c.xauto.planner.refined, evaluations: c.xauto.planner.evaluations, plan_ms: c.xauto.planner.planMs },
    module: {
      name: 'module',
      placements: placements(c.module.plan),
      serializeBetweenModules: true,
      predicted_e2e_ms: sum(c.module.sim.e2e),
      modules: c.module.baseline.modules,
    },
    module_ipc: { name: c.moduleIpc.plan.name, executor: 'single-threaded', placements: placements(c.moduleIpc.plan), serializeBetweenModules: false, predicted_e2e_ms: sum(c.moduleIpc.sim.e2e) },
    module_ipc_mt: { name: c.moduleIpcMt.plan.name, executor: 'multi-threaded', placements: placements(c.moduleIpcMt.plan), serializeBetweenModules: false, predicted_e2e_ms: sum(c.moduleIpcMt.sim.e2e) },
    lower_bound_ms: { p50: c.bound.p50, mean: c.bound.mean },
    module_over_xauto: c.module.sim.e2e.p50 / c.xauto.sim.e2e.p50,
    module_ipc_over_xauto: c.moduleIpc.sim.e2e.p50 / c.xauto.sim.e2e.p50,
    module_ipc_mt_over_xauto: c.moduleIpcMt.sim.e2e.p50 / c.xauto.sim.e2e.p50,
    xauto_over_bound: c.xauto.sim.e2e.p50 / c.bound.p50,
  };
}

export const planCommand: CommandModule<object, PlanArgs> = {
  command: 'plan <file> [launchArgs..]',
  describe: 'Plan a launch file with XAUTO and the module baselines (module, module-ipc, module-ipc-mt); print the predictions and the lower bound',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'launch file (.launch.yaml or .launch.xml)' })
      .positional('launchArgs', { type: 'string', array: true, default: [], describe: 'launch arguments, name:=value' })
      .option('xpus', { type: 'string', array: true, default: [], describe: 'plan for a declared board instead of this host, e.g. profiles/board.yaml' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (its top level is the xauto plan, usable with launch --plan)' })
      .option('reprofile', { type: 'boolean', default: false, describe: 'measure the profile again instead of using the cache' })
      .option('workers', { type: 'number', describe: 'worker-pool size (default: cores - 1)' })
      .option('frames', { type: 'number', default: 200, describe: 'frames per source simulated for the predictions' })
      .option('xnodes', { type: 'string', array: true, nargs: 1, default: [], describe: 'extra module exporting `xnodes` (repeat for more)' }) as unknown as Argv<PlanArgs>,
  handler: async (a: ArgumentsCamelCase<PlanArgs>) => {
    await runPlan(a);
  },
};
