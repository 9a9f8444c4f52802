// Two profiling sessions compared: per stage (run time), per path and end to end, the ratio
// of medians B/A with a 95% bootstrap confidence interval (percentile method, seeded: the same
// folders always give the same figures). A change is called so when its interval excludes 1
// and it is larger than the noise floor (default 5%: a loaded host moves medians that much
// between identical runs); otherwise it is within the noise.
import { mulberry32 } from '../util/random.js';
import { findPaths, frameBreakdowns, type PathGraph } from './paths.js';
import { quantile } from './stats.js';
import type { Tracer } from './tracer.js';

/** The raw series a session keeps for comparison (samples.json, per plan). */
export interface SessionSamples {
  /** Run time (ms) per stage name. */
  stages: Record<string, number[]>;
  /** End-to-end time (ms) per path name. */
  paths: Record<string, number[]>;
  /** End-to-end time (ms), all sinks. */
  e2e: number[];
}

export type Verdict = 'slower' | 'faster' | 'within noise' | 'no samples';

export interface DiffRow {
  kind: 'stage' | 'path' | 'end-to-end';
  name: string;
  a: { n: number; p50: number };
  b: { n: number; p50: number };
  /** median(B) / median(A). */
  ratio: number;
  /** 95% bootstrap interval of the ratio. */
  ci: [number, number];
  verdict: Verdict;
}

export interface DiffOptions {
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  seed?: number;
  /** Smallest relative change called a change (default 0.05). */
  noise?: number;
  /** Series longer than this are thinned evenly before resampling (default 1500). */
  maxSamples?: number;
}

function thin(v: readonly number[], max: number): Float64Array {
  if (v.length <= max) return Float64Array.from(v);
  const step = v.length / max;
  return Float64Array.from({ length: max }, (_, i) => v[Math.floor(i * step)]!);
}

function median(v: Float64Array): number {
  return quantile(Float64Array.from(v).sort(), 0.5);
}

/** The ratio of medians B/A and its bootstrap interval. */
export function bootstrapRatio(a: readonly number[], b: readonly number[], o: DiffOptions = {}): { ratio: number; ci: [number, number] } {
  const max = o.maxSamples ?? 1500;
  const xa = thin(a, max);
  const xb = thin(b, max);
  const ratio = median(xb) / median(xa);
  const rnd = mulberry32(o.seed ?? 1);
  const n = o.resamples ?? 1000;
  const ratios = new Float64Array(n);
  const ra = new Float64Array(xa.length);
  const rb = new Float64Array(xb.length);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < ra.length; i++) ra[i] = xa[Math.floor(rnd() * xa.length)]!;
    for (let i = 0; i < rb.length; i++) rb[i] = xb[Math.floor(rnd() * xb.length)]!;
    ratios[k] = quantile(rb.sort(), 0.5) / quantile(ra.sort(), 0.5);
  }
  ratios.sort();
  return { ratio, ci: [quantile(ratios, 0.025), quantile(ratios, 0.975)] };
}

function row(kind: DiffRow['kind'], name: string, a: readonly number[] | undefined, b: readonly number[] | undefined, o: DiffOptions): DiffRow {
  const p50 = (v?: readonly number[]) => (v && v.length ? quantile(Float64Array.from(v).sort(), 0.5) : NaN);
  const sa = { n: a?.length ?? 0, p50: p50(a) };
  const sb = { n: b?.length ?? 0, p50: p50(b) };
  if (!a || !b || a.length < 2 || b.length < 2) return { kind, name, a: sa, b: sb, ratio: sb.p50 / sa.p50, ci: [NaN, NaN], verdict: 'no samples' };
  const { ratio, ci } = bootstrapRatio(a, b, o);
  const noise = o.noise ?? 0.05;
  let verdict: Verdict = 'within noise';
  if (ci[0] > 1 && ratio > 1 + noise) verdict = 'slower';
  else if (ci[1] < 1 && ratio < 1 / (1 + noise)) verdict = 'faster';
  return { kind, name, a: sa, b: sb, ratio, ci, verdict };
}

/** Stage by stage, path by path, then end to end; names present in either session. */
export function diffSessions(a: SessionSamples, b: SessionSamples, o: DiffOptions = {}): DiffRow[] {
  const names = (x: Record<string, number[]>, y: Record<string, number[]>) => [...new Set([...Object.keys(x), ...Object.keys(y)])];
  return [
    ...names(a.stages, b.stages).map((n) => row('stage', n, a.stages[n], b.stages[n], o)),
    ...names(a.paths, b.paths).map((n) => row('path', n, a.paths[n], b.paths[n], o)),
    row('end-to-end', 'all sinks', a.e2e, b.e2e, o),
  ];
}

/** A finished run's series for samples.json. */
export function sessionSamples(tracer: Tracer, stageNames: string[], graph: PathGraph): SessionSamples {
  const stages: Record<string, number[]> = {};
  stageNames.forEach((name, i) => {
    const v = tracer.stageRun[i]?.values();
    if (v && v.length) stages[name] = Array.from(v);
  });
  const { paths } = findPaths(graph);
  const { frames } = frameBreakdowns(graph, paths, tracer.events(), tracer.completions());
  const byPath: Record<string, number[]> = {};
  for (const f of frames) (byPath[paths[f.path]!.map((s) => stageNames[s]).join(' → ')] ??= []).push(f.e2e);
  return { stages, paths: byPath, e2e: [...tracer.e2e.values()].flatMap((s) => Array.from(s.values())) };
}
