// `xauto profile FILE`: runs a launch file as a latency profiling session (one plan, or the
// module-level baseline and the xauto plan one after the other) and writes a folder with
// report.html (plots + timeline), summary.json, trace.json (Perfetto / chrome://tracing) and
// samples.json (the raw series `xauto profile diff` compares).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProcesses } from '../exec/processes.js';
import { chromeTrace, type ChromeTrace } from '../trace/chrome.js';
import { sessionSamples, type SessionSamples } from '../trace/diff.js';
import { compareEach, compareRuns, renderHtmlReport, type Comparison } from '../trace/html.js';
import { reportRun, type ReportRun, type ReportXpu } from '../trace/report-data.js';
import { renderSummary, type RunSummary } from '../trace/report.js';
import { isPlannedSpec, plannedSpecs } from '../schedule/index.js';
import { discoverXpus } from '../xpu/discover.js';
import { diffCommand } from './diff.js';
import { UserError } from './errors.js';
import { runPlan, stopOnSigint, type RunControl } from './session.js';
import { graphOf, launchArguments, loadDescription } from './pipeline.js';

export interface ProfileArgs {
  file: string;
  launchArgs: string[];
  frames?: number;
  duration?: number;
  /** xauto | module | both | default | PLAN.json */
  plan: string;
  out?: string;
  realtime: boolean;
  workers?: number;
  allowCommand: boolean;
  xnodes: string[];
  reprofile: boolean;
  /** Frames per source run before each measured run and not counted (JIT, caches, pools). */
  warmup: number;
  /** Feed every run from this MCAP recording in place of the sources (the same input for each plan). */
  replay?: string;
}

export interface ProfileResult {
  dir: string;
  report: string;
  summaries: RunSummary[];
  comparison?: Comparison;
}

export interface ProfileIo {
  /** Tables and the report path. */
  out: (text: string) => void;
  /** Progress and notes. */
  log: (line: string) => void;
}

// A measured run makes its own worker threads and onnxruntime sessions: their first frames
// (JIT, first session runs) are left out of the statistics.
const SETTLE = 3;

const stdio: ProfileIo = { out: (t) => process.stdout.write(t + '\n'), log: (l) => process.stderr.write(l + '\n') };

/** `xauto-profile-20260131-142501` (local time). */
export function defaultOutDir(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `xauto-profile-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

export function checkProfileArgs(a: ProfileArgs): void {
  launchArguments(a.launchArgs);
  if (a.frames !== undefined && !(Number.isInteger(a.frames) && a.frames > 0)) throw new UserError(`--frames ${a.frames}: expected a positive whole number of frames per source`);
  if (a.duration !== undefined && !(Number.isFinite(a.duration) && a.duration > 0)) throw new UserError(`--duration ${a.duration}: expected a positive number of seconds`);
  if (!(Number.isInteger(a.warmup) && a.warmup >= 0)) throw new UserError(`--warmup ${a.warmup}: expected a whole number of frames per source (0: none)`);
  if (a.frames !== undefined && a.duration !== undefined) throw new UserError('--frames and --duration: expected one of them, not both');
  const bad = sessionPlans(a.plan).filter((p) => !(isPlannedSpec(p) || p === 'default' || p.endsWith('.json')));
  if (bad.length === 0) return;
  throw new UserError(`--plan ${a.plan}: expected xauto, module, module-ipc, module-ipc-mt, default, a PLAN.json file, a comma-separated list of them, both or all`);
}

/** The plans a session runs, in order: `both` = xauto then module; `all` = xauto and every baseline; or a comma list. */
export function sessionPlans(spec: string): string[] {
  if (spec === 'both') return ['xauto', 'module'];
  if (spec === 'all') return ['xauto', ...plannedSpecs.filter((p) => p !== 'xauto')];
  return spec.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Runs the session and writes the report folder. */
export async function runProfile(a: ProfileArgs, io: ProfileIo = stdio): Promise<ProfileResult> {
  checkProfileArgs(a);
  const desc = loadDescription(a.file, a.launchArgs, a.allowCommand);
  const graph = await graphOf(desc, a.xnodes);
  const xpus = await discoverXpus({ workers: a.workers });
  if (desc.xpus.length) io.log(`xauto: declared XPUs ${desc.xpus.map((x) => x.id).join(', ')} are simulated; the session runs on real XPUs only`);
  const processNames = [...new Set(graph.stages.map((s) => s.process))];
  if (processNames.length > 1) io.log(`xauto: profile runs every xnode in this process (placements in processes ${processNames.join(', ')} are not split)`);

  const dir = resolve(a.out ?? defaultOutDir());
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${a.out}: is a file; expected a folder (created when missing)`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`--out ${a.out ?? dir}: cannot create the folder (${(e as Error).message})`);
  }
  const plans = sessionPlans(a.plan);
  const reportXpus: ReportXpu[] = [
    ...xpus.map((x) => ({ id: x.id, kind: x.kind, backend: x.backend, real: x.real, note: x.note })),
    ...desc.xpus.map((x) => ({ id: x.id, kind: x.kind, backend: 'sim', real: false, note: 'declared in the launch file' })),
  ];
  const stageNames = graph.stages.map((s) => s.name);
  const processes = desc.processes.length ? startProcesses(desc.processes, { log: (l) => io.out(l) }) : undefined;
  const runs: ReportRun[] = [];
  const traces: ChromeTrace[] = [];
  const samples: Record<string, SessionSamples> = {};
  // Ctrl-C stops the executor running now (its frames in flight drain) and the plans after it;
  // the report is still written from what was measured.
  const control: RunControl = { stopped: false };
  const release = stopOnSigint(control);
  try {
    for (const spec of plans) {
      if (control.stopped) break;
      const measured = await runPlan(desc, graph, xpus, { ...a, spec, settle: a.warmup > 0 ? SETTLE : 0, log: io.log, control, verb: 'profiling' });
      if (!measured) break;
      const { summary, tracer } = measured;
      io.out(renderSummary(summary));
      runs.push(reportRun(summary, tracer, stageNames, reportXpus, graph.sources, { graph: measured.paths, cpu: measured.cpu, deadlineMs: measured.deadlineMs }));
      traces.push(chromeTrace(tracer, stageNames, xpus.map((x) => x.id), measured.paths));
      samples[summary.plan] = sessionSamples(tracer, stageNames, measured.paths);
    }
  } finally {
    release();
    await processes?.stop();
  }
  if (runs.length === 0) throw new UserError('interrupted before a measured run: no report written');
  if (control.stopped && runs.length < plans.length) io.log(`xauto: interrupted: the report holds ${runs.map((r) => `'${r.summary.plan}'`).join(', ')} only`);

  const summaries = runs.map((r) => r.summary);
  const comparisons = compareEach(summaries);
  const comparison = compareRuns(summaries);
  const edges = [...graph.topics.values()].flatMap((t) =>
    t.publishers.flatMap((p) => t.subscribers.map((s) => ({ from: stageNames[p.stage]!, to: stageNames[s.stage]!, topic: t.name }))),
  );
  const html = await renderHtmlReport({
    title: `xauto profile: ${graph.file.split('/').pop() ?? a.file}`,
    file: desc.file,
    launchArgs: a.launchArgs,
    mode:
      (a.frames !== undefined
        ? `${a.frames} frames per source${a.realtime ? ' at the sources\' rates' : ''}`
        : a.replay && a.duration === undefined
          ? 'every recorded frame, as fast as the pipeline takes them'
          : `${a.duration ?? 10} s at the sources' rates`) +
      (a.warmup > 0 ? ` after ${a.warmup} warm-up frames; the first ${SETTLE} frames of each run are not measured` : '') +
      (a.replay ? `; sources replayed from ${a.replay}` : ''),
    edges,
    createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    host: hostname(),
    runs,
  });
  const report = join(dir, 'report.html');
  writeFileSync(report, html);
  const summaryJson = summaries.length === 1 ? summaries[0] : { plans: Object.fromEntries(summaries.map((s) => [s.plan, s])), comparison, comparisons };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summaryJson, null, 2) + '\n');
  writeFileSync(join(dir, 'trace.json'), JSON.stringify(mergeTraces(traces, summaries.map((s) => s.plan))));
  // What `xauto profile diff` compares (the raw series: summaries alone give no interval).
  writeFileSync(join(dir, 'samples.json'), JSON.stringify({ plans: samples }));
  for (const c of comparisons) {
    io.out(
      `xauto: end-to-end latency ${c.baseline}/${c.planned}: p50 ${c.p50.toFixed(2)}x, p99 ${c.p99.toFixed(2)}x` +
        ` (above 1x: ${c.planned} had the lower latency)`,
    );
  }
  io.out(`xauto: report written to ${report} (summary.json, trace.json beside it; open trace.json in https://ui.perfetto.dev)`);
  return { dir, report, summaries, comparison };
}

/** One Chrome trace holding every run: each run's processes (and flow ids) renumbered, named after its plan. */
export function mergeTraces(traces: ChromeTrace[], plans: string[]): ChromeTrace {
  if (traces.length === 1) return traces[0]!;
  const traceEvents = traces.flatMap((t, k) =>
    t.traceEvents.map((e) => {
      const pid = e.pid + 1000 * k;
      const id = e.id === undefined ? {} : { id: e.id + 10_000_000 * k };
      if (e.name === 'process_name' && e.args) return { ...e, pid, args: { name: `${plans[k]}: ${String(e.args.name)}` } };
      if (e.name === 'process_sort_index' && e.args) return { ...e, pid, args: { sort_index: Number(e.args.sort_index) + 1000 * k } };
      return { ...e, pid, ...id };
    }),
  );
  return { traceEvents, displayTimeUnit: 'ms' };
}

/** What every command running a launch file takes: the file, its arguments, frames, XPUs, modules. */
export function withRunOptions(y: Argv): Argv {
  return y
    .positional('file', { type: 'string', demandOption: true, describe: 'launch file (.launch.yaml or .launch.xml)' })
    .positional('launchArgs', { type: 'string', array: true, default: [], describe: 'launch arguments, name:=value' })
    .option('frames', { type: 'number', describe: 'frames per source, as fast as the pipeline takes them' })
    .option('workers', { type: 'number', describe: 'worker-pool size (default: cores - 1)' })
    .option('allow-command', { type: 'boolean', default: false, describe: 'allow $(command ...) substitutions' })
    .option('xnodes', { type: 'string', array: true, nargs: 1, default: [], describe: 'extra module exporting `xnodes` (repeat for more)' })
    .option('reprofile', { type: 'boolean', default: false, describe: 'measure profiles again instead of using the cache' });
}

/** `xauto profile FILE ...` (the session itself). */
const sessionCommand: CommandModule<object, ProfileArgs> = {
  command: '$0 <file> [launchArgs..]',
  describe: 'Run a launch file as a latency profiling session; writes report.html, summary.json, trace.json, samples.json',
  builder: (y: Argv) =>
    withRunOptions(y)
      .option('duration', { type: 'number', describe: 'run for S seconds at the sources\' rates (default 10 without --frames)' })
      .option('plan', { type: 'string', default: 'xauto', describe: 'xauto | module | module-ipc | module-ipc-mt (composable-node baselines, single-/multi-threaded container) | both (module baseline vs xauto, compared) | all (xauto vs every baseline) | default | PLAN.json | a comma-separated list of these' })
      .option('out', { type: 'string', describe: 'output folder (default xauto-profile-<timestamp>)' })
      .option('realtime', { type: 'boolean', default: false, describe: 'with --frames: keep the sources\' rates' })
      .option('warmup', { type: 'number', default: 20, describe: 'frames per source run (not measured) before each measured run; 0: none' })
      .option('replay', { type: 'string', describe: 'feed each run from this MCAP recording (xauto launch --record) in place of the sources' }) as unknown as Argv<ProfileArgs>,
  handler: async (a: ArgumentsCamelCase<ProfileArgs>) => {
    await runProfile(a);
  },
};

/** `xauto profile FILE` runs a session; `xauto profile diff A B` compares two. */
export const profileCommand: CommandModule<object, ProfileArgs> = {
  command: 'profile',
  describe: 'Run a launch file as a latency profiling session (report.html, summary.json, trace.json); `profile diff A B` compares two sessions',
  builder: (y: Argv) => y.command(diffCommand).command(sessionCommand) as unknown as Argv<ProfileArgs>,
  handler: () => {},
};
