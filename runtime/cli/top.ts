// `xauto top FILE`: runs a launch file with a live terminal view refreshed every second (like
// copper-rs's console monitor): per stage its runs per second, run time and wait of the last
// second, drops; per path the latency of the frames completed in the last second and its
// parts; XPU busy share and CPU load per core; overruns and deadline misses. The final
// summary follows when the run ends (Ctrl-C stops it).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CpuSampler } from '../trace/cpu.js';
import { analysePaths, PARTS } from '../trace/paths.js';
import { renderSummary, table } from '../trace/report.js';
import { summarize } from '../trace/stats.js';
import { EventKind, type TraceEvent } from '../trace/tracer.js';
import { discoverXpus } from '../xpu/discover.js';
import { UserError } from './errors.js';
import { graphOf, launchArguments, loadDescription } from './pipeline.js';
import { withRunOptions } from './profile.js';
import { runPlan, stopOnSigint, type LiveRun, type RunControl } from './session.js';

export interface TopArgs {
  file: string;
  launchArgs: string[];
  frames?: number;
  duration?: number;
  plan: string;
  workers?: number;
  allowCommand: boolean;
  xnodes: string[];
  reprofile: boolean;
}

const f = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '-');
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/** Keeps what the view needs between refreshes: event and completion cursors, a window of recent events. */
export class TopView {
  private events = 0;
  private done = 0;
  private recent: TraceEvent[] = [];
  private readonly cpu = new CpuSampler(1 << 30);
  private readonly began = performance.now();
  private last = performance.now();

  constructor(
    private readonly title: string,
    private readonly deadlineMs?: number,
  ) {
    this.cpu.start();
  }

  /** The view of the last refresh interval. */
  render(live: LiveRun): string {
    const now = performance.now();
    const span = Math.max(1e-3, (now - this.last) / 1000);
    this.last = now;
    const fresh = [...live.tracer.eventsSince(this.events)];
    this.events = live.tracer.recorded;
    const completions = live.tracer.completionsSince(this.done);
    this.done = live.tracer.completed;
    // Paths need the runs that fed the frames just completed: keep a few seconds of events.
    this.recent = this.recent.filter((e) => e.end > now - 3000).concat(fresh);
    const facts = live.report();
    const rows = [['stage', 'impl@xpu', 'runs/s', 'p50 ms', 'p99 ms', 'wait p50', 'drops']];
    for (const st of facts.stages) {
      const runs = fresh.filter((e) => e.kind === EventKind.Run && e.stage === st.index).map((e) => e.end - e.start);
      const waits = fresh.filter((e) => e.kind === EventKind.Wait && e.stage === st.index).map((e) => e.end - e.start);
      const r = summarize(runs);
      rows.push([st.name, `${st.impl}@${st.xpu}`, (runs.length / span).toFixed(1), f(r.p50), f(r.p99), f(summarize(waits).p50), String(st.drops)]);
    }
    const paths = analysePaths(live.paths, this.recent, completions);
    const prow = [['path', 'frames/s', 'p50 ms', 'p99 ms', ...PARTS.map((p) => p.replace('_', ' '))]];
    for (const p of paths.paths) prow.push([p.name, (p.frames / span).toFixed(1), f(p.e2e_ms.p50), f(p.e2e_ms.p99), ...PARTS.map((k) => f(p.mean_ms[k]))]);
    const busy = live.xpus.map((x, i) => {
      let ms = 0;
      for (const e of fresh) if (e.xpu === i && e.kind === EventKind.Run) ms += e.end - e.start;
      return { id: x.id, used: facts.stages.some((s) => s.xpu === x.id), share: ms / (span * 1000) };
    });
    this.cpu.sample();
    const cores = this.cpu.latest();
    const misses = this.deadlineMs === undefined ? undefined : completions.filter((c) => c.latency > this.deadlineMs!).length;
    const overruns = facts.sources.reduce((n, s) => n + s.overruns, 0);
    const drops = facts.stages.reduce((n, s) => n + s.drops, 0);
    return [
      `${this.title} — ${((now - this.began) / 1000).toFixed(0)} s, ${facts.sources.reduce((n, s) => n + s.emitted, 0)} frames emitted, ${facts.completed} completed (Ctrl-C stops)`,
      '',
      table(rows, 2),
      '',
      paths.paths.length ? table(prow, 1) : '(no path traced yet)',
      '',
      `xpus busy: ${busy.filter((b) => b.used).map((b) => `${b.id} ${pct(b.share)}`).join('  ')}`,
      cores.length ? `cpu load: ${cores.map((c, i) => `cpu${i} ${pct(c)}`).join('  ')}` : 'cpu load: /proc/stat not readable',
      `drops ${drops}  source overruns ${overruns}${misses === undefined ? '' : `  deadline misses (last second) ${misses}`}`,
    ].join('\n');
  }
}

export async function runTop(a: TopArgs, write: (text: string) => void = defaultWrite): Promise<void> {
  launchArguments(a.launchArgs);
  if (a.frames !== undefined && a.duration !== undefined) throw new UserError('--frames and --duration: expected one of them, not both');
  const desc = loadDescription(a.file, a.launchArgs, a.allowCommand);
  const graph = await graphOf(desc, a.xnodes);
  const xpus = await discoverXpus({ workers: a.workers });
  const periods = graph.sources.map((i) => graph.stages[i]!.rateHz).filter((r) => r > 0).map((r) => 1000 / r);
  const view = new TopView(`xauto top: ${a.file}, plan '${a.plan}'`, periods.length ? Math.max(...periods) : undefined);
  const control: RunControl = { stopped: false };
  const release = stopOnSigint(control);
  try {
    const log = (l: string) => process.stderr.write(l + '\n');
    const run = await runPlan(desc, graph, xpus, { ...a, spec: a.plan, duration: a.duration ?? (a.frames === undefined ? 3600 : undefined), log, control, live: (live) => write(view.render(live)) });
    if (run) process.stdout.write(renderSummary(run.summary) + '\n');
  } finally {
    release();
  }
}

function defaultWrite(text: string): void {
  if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J' + text + '\n');
  else process.stdout.write(text + '\n\n');
}

export const topCommand: CommandModule<object, TopArgs> = {
  command: 'top <file> [launchArgs..]',
  describe: 'Run a launch file with a live view (per stage and per path latency, drops, XPU and CPU load), refreshed every second',
  builder: (y: Argv) =>
    withRunOptions(y)
      .option('duration', { type: 'number', describe: 'run for S seconds at the sources\' rates (default: until Ctrl-C)' })
      .option('plan', { type: 'string', default: 'xauto', describe: 'xauto | module | default | PLAN.json' }) as unknown as Argv<TopArgs>,
  handler: async (a: ArgumentsCamelCase<TopArgs>) => {
    await runTop(a);
  },
};
