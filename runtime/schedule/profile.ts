// Profiles: how long each implementation takes on each XPU, measured on this host.
//
// Measuring runs the implementations for real: the pipeline first runs a few frames to
// capture a sample message on every topic; then every (implementation, XPU) pair of every
// stage is created as the executor creates it and called with those samples — in-process
// implementations directly, worker ones through a WorkerPool (so posting and transferring
// is included) — after a warm-up, repeatedly, into a distribution. Serialization costs
// (the module baseline's CDR between modules) and the cores' real parallelism are measured
// too. Results are cached in .xauto/profiles/, keyed by host, implementation name and
// version, stage parameters and XPU, so only what changed is measured again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { Executor } from '../exec/executor.js';
import { candidates, type ExecPlan, type StagePlacement } from '../exec/plan.js';
import type { Graph, Stage } from '../graph/graph.js';
import { packageRoot } from '../util/paths.js';
import { WorkerPool } from '../xpu/pool.js';
import { transferables } from '../xpu/transfer.js';
import type { XpuInfo } from '../xpu/types.js';
import { threadContext } from '../xpu/worker-protocol.js';
import { runsOnThread, type FrameInfo, type ImplContext, type ImplSpec, type PortValues, type StageFn, type StageInstance } from '../xnode/types.js';
import { ModuleCodec } from './codec.js';
import { sketch } from './simulate.js';
import { contentionOf, measureCores, startCoRunner } from './corunner.js';

export interface StageLatency {
  p50: number;
  /** Quantile sketch [min, p10, p25, p50, p75, p90, p99, max]. */
  q: number[];
  samples: number;
  /** Slowdown per busy neighbour core (corunner.ts); absent: not measured. */
  contention?: number;
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
  return sha([s.def.type, impl.name, impl.version ?? '', impl.backend, s.params, x.id, x.backend, x.lanes, x.executionProvider ?? '']);
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
  };
  for (const s of graph.stages) {
    for (const p of candidates(graph, s.index, real)) {
      const impl = s.impls.find((i) => i.name === p.impl)!;
      const x = real.find((r) => r.id === p.xpu)!;
      const key = entryKey(s, impl, x);
      const hit = cache.entries[key];
      if (hit) {
        profile.stages[s.index]![placementKey(p)] = { p50: hit.p50, q: hit.q, samples: hit.samples, contention: hit.contention };
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

  log(`xauto: profiling ${todo.length} implementation/XPU pair${todo.length === 1 ? '' : 's'} on ${host} (${profile.cached} cached)`);
  if (needCores) {
    cache.cores = await measureCores();
    profile.cores = cache.cores;
  }
  const samples = todo.length || topicTodo.length ? await captureSamples(graph, real, log) : new Map<string, Sample>();

  const passes = opts.passes ?? 6;
  const bar = opts.progress
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'profiling [{bar}] {value}/{total} {what}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(todo.length * (passes + 2) + topicTodo.length, 0, { what: '' });
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
    const perPass = Math.max(1, Math.ceil((opts.repeats ?? 24) / passes));
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
    for (const { t, r, times } of runners) {
      await r.close().catch(() => {});
      if (r.failed || times.length === 0) continue;
      const q = sketch(times);
      const lat: StageLatency = { p50: q[3]!, q, samples: times.length };
      const b = beside.get(r);
      if (b) lat.contention = contentionOf(q[3]!, b.ms, b.others);
      profile.stages[t.s.index]![placementKey(t.p)] = lat;
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

function newPool(log: (l: string) => void): WorkerPool {
  // One thread measures every thread implementation (pool workers and onnxruntime sessions alike).
  return new WorkerPool(1, { log: (_id, m) => log(`[profile] ${m}`), count: () => {}, summary: () => {} }, 'profile');
}

interface Sample {
  value: unknown;
  seq: number;
}

/** Runs the pipeline a few frames and keeps the last message of every topic. */
async function captureSamples(graph: Graph, xpus: XpuInfo[], log: (l: string) => void): Promise<Map<string, Sample>> {
  const placements = graph.stages.map((s) => {
    const c = candidates(graph, s.index, xpus);
    return c.find((p) => xpus.find((x) => x.id === p.xpu)!.backend === 'main') ?? c[0];
  });
  const missing = graph.stages.filter((_, i) => !placements[i]);
  if (missing.length) throw new Error(`no XPU on this host runs '${missing.map((s) => s.name).join("', '")}'`);
  const plan: ExecPlan = { name: 'profile-capture', placements: placements as StagePlacement[] };
  const out = new Map<string, Sample>();
  const ex = new Executor(graph, plan, {
    xpus,
    frames: 4,
    log,
    tap: (topic, value, seq) => out.set(topic, { value: structuredClone(value), seq }),
  });
  await ex.start();
  try {
    await ex.run();
  } finally {
    await ex.close();
  }
  return out;
}

/** A stage's inputs from the samples, and the frame they belong to (stages may check it). */
function stageInputs(s: Stage, samples: Map<string, Sample>): { inputs: PortValues; seq: number } | undefined {
  const inputs: PortValues = {};
  let seq = s.inputs.length === 0 ? 1 : 0;
  for (const i of s.inputs) {
    const v = samples.get(i.topic);
    if (v === undefined) {
      if (i.spec.optional || i.spec.latched) continue;
      return undefined;
    }
    inputs[i.port] = v.value;
    if (!i.spec.latched) seq = Math.max(seq, v.seq);
  }
  return { inputs, seq };
}

function context(s: Stage, impl: ImplSpec, x: XpuInfo, log: (l: string) => void): ImplContext {
  return {
    name: s.name,
    type: s.def.type,
    impl: impl.name,
    xpu: x.id,
    executionProvider: x.executionProvider,
    params: s.params,
    priority: s.priority,
    log: (m) => log(`[${s.name}] ${m}`),
    count: () => {},
    summary: () => {},
  };
}

interface Runner {
  /** One call with a fresh copy of the sample; resolves to its time (ms). */
  call(): Promise<number>;
  close(): Promise<void>;
  failed?: boolean;
}

/** Creates one implementation on one XPU as the executor does, ready to be timed. */
async function makeRunner(
  s: Stage,
  impl: ImplSpec,
  x: XpuInfo,
  sample: { inputs: PortValues; seq: number },
  pool: WorkerPool | undefined,
  poolId: number,
  log: (l: string) => void,
): Promise<Runner> {
  let invoke: (inputs: PortValues, frame: FrameInfo) => unknown;
  let close: () => Promise<void>;
  if (runsOnThread(impl)) {
    await pool!.createStage(poolId, impl.module, threadContext(context(s, impl, x, log)), !!s.def.stateful);
    invoke = (inputs, frame) => pool!.run(0, poolId, inputs, frame, transferables(inputs));
    close = () => pool!.finishStage(poolId);
  } else {
    const made: StageFn | StageInstance = await impl.create(context(s, impl, x, log));
    invoke = typeof made === 'function' ? made : made.process.bind(made);
    close = async () => {
      if (typeof made !== 'function') await made.close?.();
    };
  }
  let k = 0;
  return {
    async call() {
      const inputs = structuredClone(sample.inputs); // outside the timed region: the executor hands over, never copies
      // Sources produce successive frames; other stages see the frame their inputs came from.
      const frame: FrameInfo = { seq: s.inputs.length === 0 ? sample.seq + k++ : sample.seq, t0: performance.now() };
      const t = performance.now();
      const r = invoke(inputs, frame);
      if (r instanceof Promise) await r;
      return performance.now() - t;
    },
    close,
  };
}

function timeCodec(codec: ModuleCodec, type: string, value: unknown): TopicCost {
  const enc: number[] = [];
  const dec: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 23; k++) {
    let t = performance.now();
    const b = codec.encode(type, value);
    const e = performance.now() - t;
    t = performance.now();
    codec.decode(type, b);
    const d = performance.now() - t;
    bytes = b.byteLength;
    if (k >= 3) {
      enc.push(e);
      dec.push(d);
    }
  }
  return { bytes, encodeMs: sketch(enc)[3]!, decodeMs: sketch(dec)[3]! };
}
