// Profiles: how long each implementation takes on each XPU, measured on this host.
//
// Measuring runs the implementations for real: the pipeline first runs a few frames to
// capture a sample message on every topic; then every (implementation, XPU) pair of every
// stage is created as the executor creates it and called with those samples — in-process
// implementations directly, worker ones through a WorkerPool (so posting and transferring
// is included) — after a warm-up, repeatedly, into a distribution. Serialization costs
// (the module baseline's CDR between modules) and the cores' real parallelism are measured
// too. At the sources' pace each pair is timed once more after the host idled a source period:
// a stage of a pipeline at its sensors' rates finds its code, weights and state gone cold, and on
// a shared host that can double its time; the planner plans with those times. Results are
// cached in .xauto/profiles/, keyed by host, implementation name and version, stage parameters
// and XPU, so only what changed is measured again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { candidates, type StagePlacement } from '../exec/plan.js';
import type { Graph, Stage } from '../graph/graph.js';
import { packageRoot } from '../util/paths.js';
import type { XpuInfo } from '../xpu/types.js';
import { runsOnThread, type ImplSpec } from '../xnode/types.js';
import { ModuleCodec } from './codec.js';
import { sketch } from './simulate.js';
import { contentionOf, measureCores, startCoRunner } from './corunner.js';
import { captureSamples, makeRunner, newPool, stageInputs, timeCodec, type Runner, type Sample } from './profile-run.js';

export interface StageLatency {
  p50: number;
  /** Quantile sketch [min, p10, p25, p50, p75, p90, p99, max]. */
  q: number[];
  samples: number;
  /** Slowdown per busy neighbour core (corunner.ts); absent: not measured. */
  contention?: number;
  /**
   * Timed at the sources' pace: each call after the host idled for `gapMs`, as a stage of a
   * pipeline at its sensors' rates runs (its own code, weights and state gone cold meanwhile;
   * on a shared host a stage can take twice its back-to-back time). Absent: not measured.
   */
  paced?: { gapMs: number; p50: number; q: number[]; samples: number };
  /** When p50/q above are the paced times: the back-to-back ones. */
  hot?: { p50: number; q: number[] };
}

export interface TopicCost {
  bytes: number;
  encodeMs: number;
  decodeMs: number;
}

/** What the planner needs from a profile, measured or declared. */
export interface Profile {
  host: string;
  simulated: boolean;
  /** Effective parallelism of the CPU cores the real XPUs share. */
  cores: number;
  /** Per stage index: `impl@xpu` -> latency; pairs that failed or were not measured are absent. */
  stages: Array<Record<string, StageLatency>>;
  /** Per topic name. */
  topics: Record<string, TopicCost>;
  /** Per XPU id: transfer to/from host memory (absent: none). */
  transfer: Record<string, { latencyMs: number; msPerMB: number }>;
  /** Pairs measured in this call and taken from the cache. */
  measured: number;
  cached: number;
  /** Pairs that failed when measured (stage, placement, error). */
  failures: Array<{ stage: string; at: string; error: string }>;
  /** What the latencies stand for: runs at the sources' pace (idle gap, ms, before each) or back to back. */
  pace?: { gapMs: number } | 'back-to-back';
}

export interface ProfileOptions {
  /** Ignore the cache and measure everything again. */
  reprofile?: boolean;
  /** Show a progress bar on stderr. */
  progress?: boolean;
  log?: (line: string) => void;
  /** Cache folder (default <package>/.xauto/profiles). */
  cacheDir?: string;
  /** Timed calls per pair after warm-up (default 24), spread over `passes` interleaved passes (default 6). */
  repeats?: number;
  passes?: number;
  /** Untimed calls per pair first (default 12): enough for the JIT to optimise the stage's loops, as it has in a running pipeline. */
  warmup?: number;
  /**
   * 'rate' (default): the planner gets each pair's times at the sources' pace (each call after
   * an idle gap of the slowest source's period, at most 100 ms), as the pipeline runs at its
   * sensors' rates; 'saturation': back-to-back times, as when sources emit as fast as taken.
   */
  at?: 'rate' | 'saturation';
  /** Paced calls per pair (default 10: fewer let the plan change between runs on a quiet host). */
  pacedCalls?: number;
}

/** The idle gap before each paced call: the slowest timed source's period, capped (beyond ~100 ms caches are as cold as they get). */
export function paceOf(graph: Graph): number {
  let gap = 0;
  for (const s of graph.stages) if (s.inputs.length === 0 && s.rateHz > 0) gap = Math.max(gap, 1000 / s.rateHz);
  return Math.min(100, Math.round(gap));
}

/** A cached or measured entry as the planner sees it: paced times where the run is paced. */
function asPlanned(e: StageLatency, gapMs: number): StageLatency {
  const lat: StageLatency = { p50: e.p50, q: e.q, samples: e.samples, contention: e.contention };
  if (e.paced) lat.paced = e.paced;
  if (gapMs > 0 && e.paced) {
    lat.hot = { p50: e.p50, q: e.q };
    lat.p50 = e.paced.p50;
    lat.q = e.paced.q;
  }
  return lat;
}

interface CacheFile {
  version: 1;
  host: string;
  cores?: number;
  entries: Record<string, StageLatency & { stage: string; at: string; when: string }>;
  topics: Record<string, TopicCost>;
}

export const placementKey = (p: { impl: string; xpu: string }) => `${p.impl}@${p.xpu}`;

const sha = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** This host, as profiles are keyed: name, CPU model and core count. */
export function hostId(): string {
  return `${hostname()} | ${cpus()[0]?.model.trim() ?? 'cpu'} | ${availableParallelism()} cores`;
}

function entryKey(s: Stage, impl: ImplSpec, x: XpuInfo): string {
  // A stateful stage's times depend on how it was fed (consecutive frames since this key's 'frames').
  const fed = s.def.stateful ? 'frames' : '';
  return sha([s.def.type, impl.name, impl.version ?? '', impl.backend, s.params, x.id, x.backend, x.lanes, x.executionProvider ?? '', fed]);
}

function topicKey(g: Graph, topic: string): string {
  const t = g.topics.get(topic)!;
  const from = t.publishers.map((p) => {
    const s = g.stages[p.stage]!;
    return [s.def.type, p.port, s.params];
  });
  return sha([t.type, from]);
}

function loadCache(dir: string, host: string): CacheFile {
  const file = join(dir, `${sha(host)}.json`);
  if (existsSync(file)) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
      if (c.version === 1 && c.host === host) return c;
    } catch {
      /* a damaged cache is measured again */
    }
  }
  return { version: 1, host, entries: {}, topics: {} };
}

function saveCache(dir: string, c: CacheFile): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${sha(c.host)}.json`);
  writeFileSync(file + '.tmp', JSON.stringify(c, null, 1));
  renameSync(file + '.tmp', file);
}

/** Measures (or takes from the cache) every stage's options on the real XPUs of `xpus`. */
export async function measureProfile(graph: Graph, xpus: XpuInfo[], opts: ProfileOptions = {}): Promise<Profile> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const host = hostId();
  const dir = opts.cacheDir ?? join(packageRoot(), '.xauto', 'profiles');
  const cache = opts.reprofile ? { version: 1 as const, host, entries: {}, topics: {} } : loadCache(dir, host);
  const real = xpus.filter((x) => x.real);
  const gapMs = opts.at === 'saturation' ? 0 : paceOf(graph);

  const todo: Array<{ s: Stage; p: StagePlacement; impl: ImplSpec; x: XpuInfo; key: string }> = [];
  const profile: Profile = {
    host,
    simulated: false,
    cores: cache.cores ?? availableParallelism(),
    stages: graph.stages.map(() => ({})),
    topics: {},
    transfer: {},
    measured: 0,
    cached: 0,
    failures: [],
    pace: gapMs > 0 ? { gapMs } : 'back-to-back',
  };
  for (const s of graph.stages) {
    for (const p of candidates(graph, s.index, real)) {
      const impl = s.impls.find((i) => i.name === p.impl)!;
      const x = real.find((r) => r.id === p.xpu)!;
      const key = entryKey(s, impl, x);
      const hit = cache.entries[key];
      if (hit && (gapMs === 0 || hit.paced?.gapMs === gapMs)) {
        profile.stages[s.index]![placementKey(p)] = asPlanned(hit, gapMs);
        profile.cached++;
      } else todo.push({ s, p, impl, x, key });
    }
  }
  const topicTodo = [...graph.topics.values()].filter((t) => t.subscribers.length > 0 && t.publishers.length > 0 && !cache.topics[topicKey(graph, t.name)]);
  for (const t of graph.topics.values()) {
    const hit = cache.topics[topicKey(graph, t.name)];
    if (hit) profile.topics[t.name] = hit;
  }
  // The cores' parallelism is measured with every profiling (it varies with other load).
  const needCores = cache.cores === undefined || todo.length > 0;
  if (todo.length === 0 && topicTodo.length === 0 && !needCores) return profile;

  const how = gapMs > 0 ? `, back to back and at the sources' pace (${gapMs} ms idle before each call)` : '';
  log(`xauto: profiling ${todo.length} implementation/XPU pair${todo.length === 1 ? '' : 's'} on ${host}${how} (${profile.cached} cached)`);
  if (needCores) {
    cache.cores = await measureCores();
    profile.cores = cache.cores;
  }
  const passes = opts.passes ?? 6;
  const pacedCalls = gapMs > 0 ? (opts.pacedCalls ?? 10) : 0;
  const perPass = Math.max(1, Math.ceil((opts.repeats ?? 24) / passes));
  // A stateful pair is timed on consecutive frames: enough of them for all its calls in order.
  const window = (opts.warmup ?? 12) + perPass * (passes + 1) + pacedCalls;
  const statefulTodo = todo.some((t) => t.s.def.stateful);
  const samples = todo.length || topicTodo.length ? await captureSamples(graph, real, log, statefulTodo ? window : 0) : new Map<string, Sample>();

  const bar = opts.progress
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'profiling [{bar}] {value}/{total} {what}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(todo.length * (passes + 2 + pacedCalls) + topicTodo.length, 0, { what: '' });
  const pool = todo.some((t) => runsOnThread(t.impl)) ? newPool(log) : undefined;
  const fail = (t: (typeof todo)[number], e: unknown) => {
    const error = e instanceof Error ? e.message : String(e);
    profile.failures.push({ stage: t.s.name, at: placementKey(t.p), error });
    log(`xauto: profiling ${t.s.name} ${placementKey(t.p)} failed: ${error}; it will not be planned`);
  };
  const runners: Array<{ t: (typeof todo)[number]; r: Runner; times: number[] }> = [];
  try {
    // Every pair is created and warmed up first; then the pairs are timed in interleaved
    // passes, so a load change on the host weighs on all of them alike.
    let poolId = 0;
    for (const t of todo) {
      bar?.increment(1, { what: `${t.s.name} ${placementKey(t.p)}` });
      const sample = stageInputs(t.s, samples);
      try {
        if (!sample) throw new Error('no sample input was captured for it (an upstream stage emitted nothing)');
        const r = await makeRunner(t.s, t.impl, t.x, sample, pool, poolId++, log);
        runners.push({ t, r, times: [] });
        for (let k = 0; k < (opts.warmup ?? 12); k++) await r.call();
      } catch (e) {
        fail(t, e);
      }
    }
    for (let pass = 0; pass < passes; pass++) {
      for (const run of runners) {
        bar?.increment(1, { what: `pass ${pass + 1}/${passes} ${run.t.s.name} ${placementKey(run.t.p)}` });
        if (run.r.failed) continue;
        try {
          for (let k = 0; k < perPass; k++) run.times.push(await run.r.call());
        } catch (e) {
          fail(run.t, e);
          run.times.length = 0;
          run.r.failed = true;
        }
      }
    }
    // Contention: each pair once more, beside the standard co-runner on the other cores.
    const beside = await timeBeside(runners, perPass, bar);
    const paced = await timePaced(runners, pacedCalls, gapMs, bar);
    for (const { t, r, times } of runners) {
      await r.close().catch(() => {});
      if (r.failed || times.length === 0) continue;
      const q = sketch(times);
      const lat: StageLatency = { p50: q[3]!, q, samples: times.length };
      const b = beside.get(r);
      if (b) lat.contention = contentionOf(q[3]!, b.ms, b.others);
      const pt = paced.get(r);
      if (pt?.length) {
        const pq = sketch(pt);
        lat.paced = { gapMs, p50: pq[3]!, q: pq, samples: pt.length };
      }
      profile.stages[t.s.index]![placementKey(t.p)] = asPlanned(lat, gapMs);
      cache.entries[t.key] = { ...lat, stage: t.s.name, at: placementKey(t.p), when: new Date().toISOString() };
      profile.measured++;
    }
    const codec = new ModuleCodec(log);
    for (const t of topicTodo) {
      bar?.increment(0, { what: `codec ${t.name}` });
      const v = samples.get(t.name);
      if (v !== undefined) {
        const cost = timeCodec(codec, t.type, v.value);
        profile.topics[t.name] = cost;
        cache.topics[topicKey(graph, t.name)] = cost;
      }
      bar?.increment(1);
    }
  } finally {
    bar?.stop();
    await pool?.close();
  }
  saveCache(dir, cache);
  return profile;
}

/**
 * Each runner's calls at the sources' pace: the host idles `gapMs` before every call (one pair
 * at a time, so nothing else keeps the caches warm), its input freshly written just before, as
 * an upstream stage would have left it.
 */
async function timePaced(
  runners: Array<{ t: { s: Stage; p: StagePlacement }; r: Runner }>,
  calls: number,
  gapMs: number,
  bar?: cliProgress.SingleBar,
): Promise<Map<Runner, number[]>> {
  const out = new Map<Runner, number[]>();
  for (let k = 0; k < calls; k++) {
    for (const run of runners) {
      bar?.increment(1, { what: `at the sources' pace (${gapMs} ms idle) ${run.t.s.name} ${placementKey(run.t.p)}` });
      if (run.r.failed) continue;
      await new Promise((r) => setTimeout(r, gapMs));
      try {
        const ms = await run.r.call();
        const times = out.get(run.r) ?? [];
        times.push(ms);
        out.set(run.r, times);
      } catch {
        out.delete(run.r);
        run.r.failed = true;
      }
    }
  }
  return out;
}

/** Median time of each runner's calls beside the co-runner (runners that fail here are skipped). */
async function timeBeside(
  runners: Array<{ t: { s: Stage; p: StagePlacement }; r: Runner; times: number[] }>,
  calls: number,
  bar?: cliProgress.SingleBar,
): Promise<Map<Runner, { ms: number; others: number }>> {
  const out = new Map<Runner, { ms: number; others: number }>();
  if (!runners.length) return out;
  const co = await startCoRunner();
  try {
    for (const run of runners) {
      bar?.increment(1, { what: `beside a co-runner ${run.t.s.name} ${placementKey(run.t.p)}` });
      if (run.r.failed) continue;
      const times: number[] = [];
      try {
        for (let k = 0; k < calls; k++) times.push(await run.r.call());
      } catch {
        continue;
      }
      out.set(run.r, { ms: sketch(times)[3]!, others: co.threads });
    }
  } finally {
    await co.stop();
  }
  return out;
}

