// The run summary (what `--summary-json` writes) and its terminal table.
import { relative } from 'node:path';
import { PARTS, type PathAnalysis } from './paths.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';
import type { Tracer } from './tracer.js';

export interface StageSummary extends Omit<StageFacts, 'index'> {
  /** Run time of the stage (ms). */
  latency_ms: Summary;
  /** Time the ready stage waited for its XPU (ms). */
  wait_ms: Summary;
}

export interface RunSummary {
  file: string;
  plan: string;
  wall_s: number;
  frames: { emitted: number; completed: number; source_overruns: number; lost?: FrameLosses };
  drops: number;
  stages: StageSummary[];
  /** End-to-end latency (ms) from source capture to sink completion, all sinks together. */
  e2e_ms: Summary;
  /** Per sink stage. */
  e2e_by_sink: Record<string, Summary>;
  xpus: Array<{ id: string; real: boolean; utilisation: number }>;
  counters: Record<string, number>;
  /**
   * What the latency figures mean: 'rate' when sources ran at their rates, 'saturation' when
   * frames were pushed as fast as the pipeline took them (latency includes queueing; the
   * headline figure is then throughput).
   */
  mode?: 'rate' | 'saturation';
  /** Frames per second per source (emitted / sources / wall time). */
  throughput_fps?: number;
  /** Per source->sink path: end-to-end time and its parts per hop. */
  paths?: PathAnalysis;
  /** Stages every implementation of which failed: `xauto launch` then exits 3. */
  failed_stages?: string[];
  [section: string]: unknown;
}

/**
 * Where the frames that did not complete went, each counted in exactly one place. On a chain
 * (one source, one sink) emitted = completed + the sum of these.
 */
export interface FrameLosses {
  /** Pushed out of a keep-last input, or could no longer meet its frame at a join. */
  dropped: number;
  /** A stage threw, rejected, or returned outputs its ports do not take. */
  failed: number;
  /** A stage ran past its deadline. */
  timed_out: number;
  /** Due at a source that had not served its last frame. */
  overrun: number;
  /** A stage published nothing downstream for it. */
  filtered: number;
  /** Input refused from the network (`refused.*` counters). */
  refused: number;
  /** Input the network lost (`lost.*` counters). */
  lost: number;
  /** Still in the pipeline when the run stopped. */
  in_flight: number;
}

export function totalLost(l: FrameLosses): number {
  return l.dropped + l.failed + l.timed_out + l.overrun + l.filtered + l.refused + l.lost + l.in_flight;
}

const LOSS_WORDS: Array<[keyof FrameLosses, string]> = [
  ['dropped', 'dropped'],
  ['failed', 'failed'],
  ['timed_out', 'timed out'],
  ['overrun', 'source overruns'],
  ['filtered', 'filtered'],
  ['refused', 'refused'],
  ['lost', 'lost by the network'],
  ['in_flight', 'in flight at stop'],
];

/** The header's account of frames that did not complete: "0 lost", or "5 lost (3 dropped, 2 failed)". */
export function lossText(l: FrameLosses): string {
  const parts = LOSS_WORDS.filter(([k]) => l[k] > 0).map(([k, w]) => `${l[k]} ${w}`);
  return `${totalLost(l)} lost` + (parts.length ? ` (${parts.join(', ')})` : '');
}

const sumPrefixed = (counters: Record<string, number>, prefix: string) => Object.entries(counters).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v : n), 0);

/** What the executor reports about one stage. */
export interface StageFacts {
  /** Stage index in the graph. */
  index: number;
  name: string;
  type: string;
  module: string;
  impl: string;
  xpu: string;
  runs: number;
  drops: number;
  errors: number;
  /** Runs past the deadline (not in `errors`). */
  timeouts?: number;
  /** Runs that published nothing downstream. */
  ended?: number;
}

export interface ExecFacts {
  wallMs: number;
  /** Sink completions, measured or not (the e2e statistics leave out settling frames). */
  completed: number;
  stages: StageFacts[];
  sources: Array<{ name: string; emitted: number; overruns: number }>;
  xpus: Array<{ id: string; real: boolean; busyMs: number }>;
  sections: Record<string, Record<string, unknown>>;
  /** Frames still in the pipeline at the end (due at a stopped source, held at an input). */
  inFlight?: number;
  /** Stages every implementation of which failed (no fallback left). */
  failedStages?: string[];
}

export function buildSummary(file: string, plan: string, facts: ExecFacts, tracer: Tracer, counters: Record<string, number>): RunSummary {
  const stages = facts.stages.map(({ index, ...s }) => ({ ...s, latency_ms: tracer.stageRun[index]!.summary(), wait_ms: tracer.stageWait[index]!.summary() }));
  const byIndex = new Map(facts.stages.map((s) => [s.index, s.name]));
  const all: number[] = [];
  const bySink: Record<string, Summary> = {};
  for (const [sink, samples] of tracer.e2e) {
    bySink[byIndex.get(sink) ?? String(sink)] = samples.summary();
    all.push(...samples.values());
  }
  const drops = stages.reduce((n, s) => n + s.drops, 0);
  const overruns = facts.sources.reduce((n, s) => n + s.overruns, 0);
  const lost: FrameLosses = {
    dropped: drops,
    failed: stages.reduce((n, s) => n + s.errors, 0),
    timed_out: stages.reduce((n, s) => n + (s.timeouts ?? 0), 0),
    overrun: overruns,
    filtered: stages.reduce((n, s) => n + (s.ended ?? 0), 0),
    refused: sumPrefixed(counters, 'refused.'),
    lost: sumPrefixed(counters, 'lost.'),
    in_flight: facts.inFlight ?? 0,
  };
  const summary: RunSummary = {
    file,
    plan,
    wall_s: facts.wallMs / 1000,
    frames: {
      emitted: facts.sources.reduce((n, s) => n + s.emitted, 0),
      completed: facts.completed,
      source_overruns: overruns,
      lost,
    },
    drops,
    stages,
    e2e_ms: summarize(all),
    e2e_by_sink: bySink,
    xpus: facts.xpus.map((x) => ({ id: x.id, real: x.real, utilisation: facts.wallMs > 0 ? x.busyMs / facts.wallMs : 0 })),
    counters,
    throughput_fps: facts.wallMs > 0 && facts.sources.length ? facts.sources.reduce((n, s) => n + s.emitted, 0) / facts.sources.length / (facts.wallMs / 1000) : 0,
  };
  if (facts.failedStages?.length) summary.failed_stages = facts.failedStages;
  for (const [k, v] of Object.entries(facts.sections)) if (!(k in summary)) summary[k] = v;
  return summary;
}

const f = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '-');

/** Renders rows as an aligned text table (first row is the header). */
export function table(rows: string[][], rightAlignFrom = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= rightAlignFrom ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

const STANDARD = new Set(['file', 'plan', 'wall_s', 'frames', 'drops', 'stages', 'e2e_ms', 'e2e_by_sink', 'xpus', 'counters', 'mode', 'throughput_fps', 'paths', 'deadline_ms', 'deadline_misses', 'failed_stages']);

/** How the run's latency figures were produced, for every table that shows them. */
export function modeLabel(s: RunSummary): string {
  if (s.mode === 'saturation') return `latency under saturation (frames as fast as the pipeline takes them; throughput ${(s.throughput_fps ?? 0).toFixed(1)} frames/s per source)`;
  if (s.mode === 'rate') return "latency at the sources' rates";
  return '';
}

/** Per-path table: end-to-end percentiles and the mean parts (they sum to the mean). */
export function renderPaths(p: PathAnalysis): string {
  const rows = [['path', 'frames', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'run', 'xpu wait', 'input wait', 'transfer']];
  for (const x of p.paths) {
    rows.push([x.name, String(x.frames), f(x.e2e_ms.p50), f(x.e2e_ms.p99), f(x.e2e_ms.max), f(x.e2e_ms.mean), ...PARTS.map((k) => f(x.mean_ms[k]))]);
  }
  const out = [table(rows, 1)];
  if (p.truncated) out.push(`(more paths than ${p.paths.length}: only these were analysed)`);
  const lost = p.paths.filter((x) => x.unmatched > 0);
  if (lost.length) out.push(`not decomposed (runs not in the trace): ${lost.map((x) => `${x.name} ${x.unmatched}`).join(', ')}`);
  return out.join('\n');
}

const show = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : JSON.stringify(v));

/**
 * A section whose every entry carries `lines` (text in another tool's own format, e.g. the
 * reference system's statistics its scripts parse) prints those lines verbatim.
 */
function preformatted(section: Record<string, unknown>): string[] | undefined {
  const entries = Object.values(section);
  const lines = (e: unknown) => (e !== null && typeof e === 'object' ? (e as { lines?: unknown }).lines : undefined);
  if (!entries.length || !entries.every((e) => Array.isArray(lines(e)) && (lines(e) as unknown[]).every((l) => typeof l === 'string'))) return undefined;
  return entries.flatMap((e) => lines(e) as string[]);
}

export function renderSummary(s: RunSummary): string {
  const rows = [['stage', 'impl@xpu', 'runs', 'drops', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'wait p50']];
  for (const st of s.stages) {
    const l = st.latency_ms;
    rows.push([st.name, `${st.impl}@${st.xpu}${s.failed_stages?.includes(st.name) ? ' (failed)' : ''}`, String(st.runs), String(st.drops), f(l.p50), f(l.p90), f(l.p99), f(l.max), f(st.wait_ms.p50)]);
  }
  const e = s.e2e_ms;
  rows.push(['end-to-end', '', String(e.count), String(s.drops), f(e.p50), f(e.p90), f(e.p99), f(e.max), '']);
  const out = [
    `xauto: ${relative(process.cwd(), s.file) || s.file} — plan '${s.plan}', ${s.frames.emitted} frames emitted, ${s.frames.completed} completed, ${s.frames.lost ? lossText(s.frames.lost) : `${s.drops} dropped`}, ${s.wall_s.toFixed(2)} s`,
    table(rows, 2),
  ];
  if (s.mode) out.splice(1, 0, modeLabel(s) + (typeof s.deadline_ms === 'number' ? `; ${String(s.deadline_misses)} frames over the ${f(s.deadline_ms)} ms deadline (the slowest source's period)` : ''));
  if (s.paths && s.paths.paths.length > 1) out.push('per path (mean parts sum to the mean end-to-end time):\n' + renderPaths(s.paths));
  const sinks = Object.keys(s.e2e_by_sink);
  if (sinks.length > 1) out.push('end-to-end by sink: ' + sinks.map((k) => `${k} p50 ${f(s.e2e_by_sink[k]!.p50)} ms`).join(', '));
  out.push('xpus busy: ' + s.xpus.filter((x) => x.utilisation > 0).map((x) => `${x.id}${x.real ? '' : ' (simulated)'} ${(x.utilisation * 100).toFixed(0)}%`).join(', '));
  for (const [k, v] of Object.entries(s)) {
    if (STANDARD.has(k) || v === null || typeof v !== 'object') continue;
    const text = preformatted(v as Record<string, unknown>);
    if (text) out.push(`${k}:`, ...text);
    else out.push(`${k}: ` + Object.entries(v as Record<string, unknown>).map(([name, x]) => `${name}=${show(x)}`).join(', '));
  }
  if (s.failed_stages?.length) out.push(`failed stages (every implementation failed, no fallback left): ${s.failed_stages.join(', ')}`);
  const c = Object.entries(s.counters);
  if (c.length) out.push('counters: ' + c.map(([k, v]) => `${k}=${v}`).join(', '));
  return out.join('\n');
}
