// The reference system's metrics, as its command nodes compute and print them
// (sample_management.hpp: print_sample_path, statistic_value_t) and as its Python tooling
// parses them (reference_system_py/std_latency.py):
//   latency            now at the command node − the earliest stamp in the history;
//   hot path latency   the hot-path sink's stamp − the later of the hot-path roots' stamps;
//   hot path drops     the dropped_samples of the hot-path nodes in the history, summed;
//   behavior planner period   Δstamp / Δsequence between two BehaviorPlanner entries seen;
// each a Welford running statistic printed as `VALUEms [min=…ms, max=…ms, average=…ms,
// deviation=…ms]` (drops without the unit) with C++ iostream number formatting.
import { nodeStamp, sameName, size, type Message4kb, type TransmissionStats } from './message.js';

/** statistic_value_t: a running statistic over integer samples (ns, or counts). */
export class Statistic {
  count = 0;
  average = 0;
  deviation = NaN;
  min = Infinity;
  max = 0;
  current = 0;
  private m2 = 0;
  /** Every sample, for the percentiles the benchmark adds (the reference keeps none). */
  readonly samples: number[] = [];

  /** `adjustment` divides each value when printed (1e6: ns shown as ms); 0 prints integers. */
  constructor(
    readonly suffix: string,
    readonly adjustment: number,
  ) {}

  set(value: number): void {
    this.count++;
    this.current = value;
    const previous = value - this.average;
    this.average += previous / this.count;
    this.m2 += previous * (value - this.average);
    // Sample deviation, 0/0 (NaN) after one sample, as there.
    this.deviation = Math.sqrt(this.m2 / (this.count - 1));
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    this.samples.push(value);
  }

  /** `operator<<` of statistic_value_t. */
  format(): string {
    const u = this.suffix;
    if (this.adjustment === 0) {
      return `${this.current}${u} [min=${this.min}${u}, max=${this.max}${u}, average=${cppDouble(this.average)}${u}, deviation=${cppDouble(this.deviation)}]`;
    }
    const a = this.adjustment;
    return (
      `${cppDouble(this.current / a)}${u} [min=${cppDouble(this.min / a)}${u}, max=${cppDouble(this.max / a)}${u}, ` +
      `average=${cppDouble(this.average / a)}${u}, deviation=${cppDouble(this.deviation / a)}${u}]`
    );
  }

  /** In display units (ms for times), with the median for the benchmark. */
  toJSON(): { count: number; current: number; min: number; max: number; average: number; deviation: number; p50: number } {
    const a = this.adjustment || 1;
    const sorted = [...this.samples].sort((x, y) => x - y);
    const p50 = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! / a : NaN;
    return { count: this.count, current: this.current / a, min: this.min / a, max: this.max / a, average: this.average / a, deviation: this.deviation / a, p50 };
  }
}

/**
 * A double as `std::ostream << double` prints it by default: 6 significant digits, `%g`
 * style (exponent form below 1e-4 or from 1e6, trailing zeros dropped); glibc prints the
 * NaN of 0/0 as `-nan`.
 */
export function cppDouble(x: number): string {
  if (Number.isNaN(x)) return '-nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const [mant, e] = x.toExponential(5).split('e') as [string, string];
  const exp = Number(e);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) return `${strip(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return strip(x.toFixed(5 - exp));
}

/** SampleManagementSettings' hot path. */
export interface HotPath {
  /** Nodes whose drops count as hot-path drops. */
  nodes: string[];
  roots: string[];
  sink: string;
}

/** `hot_path_name()`: the roots in set order (sorted), then the sink. */
export function hotPathName(h: HotPath): string {
  return `${[...new Set(h.roots)].sort().join('/')} -> ${h.sink}`;
}

// The reference counts command-node callbacks in one static counter per process and skips
// the first ones (startup jitter). Here the counter is per thread (a worker holds its own)
// and starts again with the first command node of a run.
let liveCommands = 0;
let callbacks = 0;

export function commandOpened(): void {
  if (liveCommands++ === 0) callbacks = 0;
}

export function commandClosed(): void {
  liveCommands = Math.max(0, liveCommands - 1);
}

/** Counts a command-node callback; returns its number in this thread's run (from 1). */
export function commandCallback(): number {
  return ++callbacks;
}

/** One command node's statistics (advanced_statistics[node] of the reference). */
export class CommandMetrics {
  readonly latency = new Statistic('ms', 1e6);
  readonly hotPathLatency = new Statistic('ms', 1e6);
  readonly hotPathDrops = new Statistic('', 0);
  readonly behaviorPlannerPeriod = new Statistic('ms', 1e6);
  private prevBpSequence = 0;
  private prevBpStamp = 0;
  private hot = false;
  private bp = false;
  // Names as bytes, compared with the history's without decoding it.
  private readonly roots: number[][];
  private readonly sink: number[];
  private readonly hotNodes: number[][];
  private readonly planner: number[];

  constructor(
    readonly node: string,
    readonly hotPath: HotPath,
    readonly behaviorPlanner = 'BehaviorPlanner',
  ) {
    const bytes = (n: string) => nodeStamp(n).bytes;
    this.roots = hotPath.roots.map(bytes);
    this.sink = bytes(hotPath.sink);
    this.hotNodes = hotPath.nodes.map(bytes);
    this.planner = bytes(behaviorPlanner);
  }

  /** One received sample, `nowNs` when the command callback ran. */
  record(m: Message4kb, nowNs: number): void {
    const n = size(m);
    if (n <= 0) return;
    const is = (e: TransmissionStats, names: number[][]) => names.some((x) => sameName(e.node_name, x));
    let minStamp = Infinity;
    // Newest entry first; the oldest sink entry wins, roots give the latest stamp.
    let sinkStamp = 0;
    let rootStamp = 0;
    let containsHotPath = false;
    for (let i = n - 1; i >= 0; i--) {
      const e = m.stats[i]!;
      const ts = Number(e.timestamp);
      minStamp = Math.min(minStamp, ts);
      if (is(e, this.roots)) rootStamp = Math.max(rootStamp, ts);
      if (sameName(e.node_name, this.sink)) {
        sinkStamp = ts;
        containsHotPath = true;
      }
    }
    let drops = 0;
    if (containsHotPath) for (let i = 0; i < n; i++) if (is(m.stats[i]!, this.hotNodes)) drops += Number(m.stats[i]!.dropped_samples);

    for (let i = 0; i < n; i++) {
      const e = m.stats[i]!;
      if (!sameName(e.node_name, this.planner)) continue;
      this.bp = true;
      const seq = Number(e.sequence_number);
      const ts = Number(e.timestamp);
      // Δsequence 0 (the same planner sample twice) would divide by zero there: skipped here.
      const dSeq = seq - this.prevBpSequence;
      if (this.prevBpStamp !== 0 && dSeq > 0) this.behaviorPlannerPeriod.set(Math.floor((ts - this.prevBpStamp) / dSeq));
      this.prevBpSequence = seq;
      this.prevBpStamp = ts;
    }

    this.latency.set(Math.round(nowNs - minStamp));
    if (containsHotPath) {
      this.hot = true;
      this.hotPathDrops.set(drops);
      this.hotPathLatency.set(Math.round(sinkStamp - rootStamp));
    }
  }

  /** The reference's `Statistics:` block for this node, with the values of the last sample. */
  lines(): string[] {
    const out = ['----------------------------------------------------------', `sample path: (${this.node})`, 'Statistics:'];
    if (this.latency.count === 0) {
      out.push('  (no sample after the skipped first callbacks)');
    } else {
      out.push(`  latency:                  ${this.latency.format()}`);
      if (this.hot) {
        out.push(`  hot path:                 ${hotPathName(this.hotPath)}`);
        out.push(`  hot path latency:         ${this.hotPathLatency.format()}`);
        out.push(`  hot path drops:           ${this.hotPathDrops.format()}`);
      }
      if (this.bp && this.behaviorPlannerPeriod.count > 0) out.push(`  behavior planner period:  ${this.behaviorPlannerPeriod.format()}`);
    }
    out.push('----------------------------------------------------------');
    return out;
  }

  /** For the run summary: the printed lines and the statistics in ms. */
  report(): Record<string, unknown> {
    const r: Record<string, unknown> = { lines: this.lines(), latency_ms: this.latency.toJSON() };
    if (this.hot) {
      r.hot_path = hotPathName(this.hotPath);
      r.hot_path_latency_ms = this.hotPathLatency.toJSON();
      r.hot_path_drops = { ...this.hotPathDrops.toJSON(), total: this.hotPathDrops.samples.reduce((a, b) => a + b, 0) };
    }
    if (this.behaviorPlannerPeriod.count > 0) r.behavior_planner_period_ms = this.behaviorPlannerPeriod.toJSON();
    return r;
  }
}
