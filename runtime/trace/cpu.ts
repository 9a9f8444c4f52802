// CPU load per core during a run, sampled from /proc/stat (Linux): the busy share of each
// core between two samples (user+nice+system+irq+softirq+steal over all but iowait/idle).
// One small synchronous read per interval on an unref'd timer; elsewhere it reports nothing.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface CpuSeries {
  /** Sample times (ms, the trace clock: performance.now()). */
  t: number[];
  /** Per core: busy fraction (0..1) over the interval ending at each sample. */
  cores: number[][];
  /** Why there is no series (not Linux, /proc unreadable). */
  unavailable?: string;
}

type Ticks = Array<{ busy: number; total: number }>;

function readTicks(file: string): Ticks {
  const out: Ticks = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    out[Number(m[1])] = { busy: total - idle, total };
  }
  return out;
}

export class CpuSampler {
  private timer?: NodeJS.Timeout;
  private last?: Ticks;
  private readonly series: CpuSeries = { t: [], cores: [] };

  constructor(
    private readonly intervalMs = 100,
    private readonly file = '/proc/stat',
  ) {}

  start(): void {
    try {
      this.last = readTicks(this.file);
      this.series.cores = this.last.map(() => []);
    } catch (e) {
      this.series.unavailable = `${this.file} is not readable (${(e as Error).message})`;
      return;
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes one sample now (also called by the timer). */
  sample(): void {
    if (!this.last) return;
    let now: Ticks;
    try {
      now = readTicks(this.file);
    } catch {
      return;
    }
    this.series.t.push(performance.now());
    now.forEach((c, i) => {
      const p = this.last![i];
      const dt = p ? c.total - p.total : 0;
      (this.series.cores[i] ??= []).push(dt > 0 ? Math.min(1, Math.max(0, (c.busy - p!.busy) / dt)) : 0);
    });
    this.last = now;
  }

  /** Each core's load over the interval ending at the latest sample (0 before any). */
  latest(): number[] {
    return this.series.cores.map((c) => c[c.length - 1] ?? 0);
  }

  stop(): CpuSeries {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sample();
    }
    return this.series;
  }
}
