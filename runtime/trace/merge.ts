// One run across several processes: each process of a multi-process launch dumps its trace
// (events, completions) and summary; the top process merges them into one tracer and one
// summary. Times move onto the top process's clock through each process's
// performance.timeOrigin (the epoch, so processes on one host line up; frames crossing
// processes already carry their capture time as epoch time). XPUs are per process: they are
// renamed `process:xpu`. Stage indices are the launch graph's, the same in every process.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FrameLosses, RunSummary } from './report.js';
import { summarize } from './stats.js';
import { EventKind, Tracer, type Completion } from './tracer.js';

export interface ProcessDump {
  process: string;
  /** performance.timeOrigin of the process (epoch ms). */
  timeOrigin: number;
  xpuNames: string[];
  events: { stage: number[]; xpu: number[]; kind: number[]; seq: number[]; start: number[]; end: number[] };
  completions: Completion[];
  summary: RunSummary;
}

export function dumpRun(process: string, tracer: Tracer, summary: RunSummary, xpuNames: string[]): ProcessDump {
  const events: ProcessDump['events'] = { stage: [], xpu: [], kind: [], seq: [], start: [], end: [] };
  for (const e of tracer.events()) {
    events.stage.push(e.stage);
    events.xpu.push(e.xpu);
    events.kind.push(e.kind);
    events.seq.push(e.seq);
    events.start.push(e.start);
    events.end.push(e.end);
  }
  return { process, timeOrigin: performance.timeOrigin, xpuNames, events, completions: tracer.completions(), summary };
}

export function writeDump(file: string, d: ProcessDump): void {
  writeFileSync(file, JSON.stringify(d));
}

export interface MergedRun {
  tracer: Tracer;
  summary: RunSummary;
  xpuNames: string[];
}

/** Merges the dumps (the top process first) for a graph of `stages` stages, in `order` (stage names by index). */
export function mergeDumps(dumps: ProcessDump[], order: string[]): MergedRun {
  const top = dumps[0]!;
  const capacity = dumps.reduce((n, d) => n + d.events.stage.length, 0) + 16;
  const tracer = new Tracer(order.length, { capacity, now: () => 0 });
  const xpuNames: string[] = [];
  for (const d of dumps) {
    const shift = d.timeOrigin - top.timeOrigin;
    const base = xpuNames.length;
    xpuNames.push(...d.xpuNames.map((x) => `${d.process}:${x}`));
    const e = d.events;
    for (let i = 0; i < e.stage.length; i++) tracer.record(e.stage[i]!, base + e.xpu[i]!, e.kind[i] as EventKind, e.seq[i]!, e.start[i]! + shift, e.end[i]! + shift);
    for (const c of d.completions) tracer.addCompletion({ ...c, end: c.end + shift });
  }
  const s = dumps.map((d) => d.summary);
  const rank = (name: string) => order.indexOf(name);
  const bySink: Record<string, ReturnType<typeof summarize>> = {};
  for (const [sink, samples] of tracer.e2e) bySink[order[sink] ?? String(sink)] = samples.summary();
  const counters: Record<string, number> = {};
  for (const x of s) for (const [k, v] of Object.entries(x.counters)) counters[k] = (counters[k] ?? 0) + v;
  const summary: RunSummary = {
    ...Object.assign({}, ...s.slice().reverse()),
    file: top.summary.file,
    plan: top.summary.plan,
    wall_s: Math.max(...s.map((x) => x.wall_s)),
    frames: {
      emitted: s.reduce((n, x) => n + x.frames.emitted, 0),
      completed: s.reduce((n, x) => n + x.frames.completed, 0),
      source_overruns: s.reduce((n, x) => n + x.frames.source_overruns, 0),
      lost: mergeLosses(s.map((x) => x.frames.lost)),
    },
    drops: s.reduce((n, x) => n + x.drops, 0),
    stages: s.flatMap((x) => x.stages).sort((a, b) => rank(a.name) - rank(b.name)),
    e2e_ms: summarize(tracer.completions().map((c) => c.latency)),
    e2e_by_sink: bySink,
    xpus: dumps.flatMap((d) => d.summary.xpus.map((x) => ({ ...x, id: `${d.process}:${x.id}` }))),
    counters,
    failed_stages: s.flatMap((x) => x.failed_stages ?? []),
    processes: Object.fromEntries(dumps.map((d) => [d.process, { stages: d.summary.stages.map((x) => x.name).join(' '), emitted: d.summary.frames.emitted, completed: d.summary.frames.completed }])),
  };
  delete summary.paths;
  if (!summary.failed_stages!.length) delete summary.failed_stages;
  return { tracer, summary, xpuNames };
}

/** Each process counts its own losses (its stages, its network input): they add up. */
function mergeLosses(all: Array<FrameLosses | undefined>): FrameLosses | undefined {
  const some = all.filter((l): l is FrameLosses => !!l);
  if (!some.length) return undefined;
  const out = { ...some[0]! };
  for (const l of some.slice(1)) for (const k of Object.keys(out) as Array<keyof FrameLosses>) out[k] += l[k];
  return out;
}
