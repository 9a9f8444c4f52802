// Profiling, the part that runs things: a sample message on every topic (the pipeline run a
// few frames), and each (implementation, XPU) pair created as the executor creates it, ready
// to be called with those samples and timed; the module baseline's codec timed on them too.
// A stateful stage is timed on a window of consecutive frames in order instead, so its state
// evolves as in the pipeline (a rollout stage builds each track's history from successive
// frames; repeating one frame would leave it with no agent to roll out).
import { performance } from 'node:perf_hooks';
import { Executor } from '../exec/executor.js';
import { candidates, type ExecPlan, type StagePlacement } from '../exec/plan.js';
import type { Graph, Stage } from '../graph/graph.js';
import { WorkerPool } from '../xpu/pool.js';
import { transferables } from '../xpu/transfer.js';
import type { XpuInfo } from '../xpu/types.js';
import { threadContext } from '../xpu/worker-protocol.js';
import { runsOnThread, type FrameInfo, type ImplContext, type ImplSpec, type PortValues, type StageFn, type StageInstance } from '../xnode/types.js';
import type { ModuleCodec } from './codec.js';
import type { TopicCost } from './profile.js';
import { sketch } from './simulate.js';

export function newPool(log: (l: string) => void): WorkerPool {
  // One thread measures every thread implementation (pool workers and onnxruntime sessions alike).
  return new WorkerPool(1, { log: (_id, m) => log(`[profile] ${m}`), count: () => {}, summary: () => {} }, 'profile');
}

export interface Sample {
  value: unknown;
  seq: number;
  /** Topics a stateful stage reads: the last `window` messages, oldest first. */
  window?: Array<{ value: unknown; seq: number }>;
}

/** Frames the pipeline runs before the samples are its steady state (threads, JIT, tracks confirmed). */
const SETTLE_FRAMES = 4;

/**
 * Runs the pipeline a few frames and keeps the last message of every topic; on topics that a
 * stateful stage reads, the last `window` messages too (the run is then that much longer).
 */
export async function captureSamples(graph: Graph, xpus: XpuInfo[], log: (l: string) => void, window = 0): Promise<Map<string, Sample>> {
  const placements = graph.stages.map((s) => {
    const c = candidates(graph, s.index, xpus);
    return c.find((p) => xpus.find((x) => x.id === p.xpu)!.backend === 'main') ?? c[0];
  });
  const missing = graph.stages.filter((_, i) => !placements[i]);
  if (missing.length) throw new Error(`no XPU on this host runs '${missing.map((s) => s.name).join("', '")}'`);
  const plan: ExecPlan = { name: 'profile-capture', placements: placements as StagePlacement[] };
  const windowed = new Set(window > 0 ? graph.stages.filter((s) => s.def.stateful).flatMap((s) => s.inputs.map((i) => i.topic)) : []);
  const out = new Map<string, Sample>();
  const ex = new Executor(graph, plan, {
    xpus,
    frames: SETTLE_FRAMES + (windowed.size ? window : 0),
    log,
    tap: (topic, value, seq) => {
      const copy = structuredClone(value);
      const prev = out.get(topic);
      const sample: Sample = { value: copy, seq };
      if (windowed.has(topic)) {
        sample.window = prev?.window ?? [];
        sample.window.push({ value: copy, seq });
        if (sample.window.length > window) sample.window.shift();
      }
      out.set(topic, sample);
    },
  });
  await ex.start();
  try {
    await ex.run();
  } finally {
    await ex.close();
  }
  return out;
}

export interface StageFrame {
  inputs: PortValues;
  seq: number;
}

/**
 * A stage's inputs from the samples, and the frame they belong to (stages may check it): one
 * frame, or for a stateful stage the captured window's frames in order (each input as of that
 * frame: its message of the frame, else its latest before). Undefined: a required input has no sample.
 */
export function stageInputs(s: Stage, samples: Map<string, Sample>): StageFrame[] | undefined {
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
  const driver = s.def.stateful ? s.inputs.find((i) => !i.spec.latched && !i.spec.optional && samples.get(i.topic)?.window) : undefined;
  if (!driver) return [{ inputs, seq }];
  return samples.get(driver.topic)!.window!.map(({ seq: at }) => {
    const frame: PortValues = {};
    for (const i of s.inputs) {
      const w = samples.get(i.topic)?.window;
      let v = w ? undefined : samples.get(i.topic)?.value;
      if (w) for (const m of w) if (m.seq <= at) v = m.value;
      if (v !== undefined) frame[i.port] = v;
    }
    return { inputs: frame, seq: at };
  });
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

export interface Runner {
  /** One call with a fresh copy of the sample; resolves to its time (ms). */
  call(): Promise<number>;
  close(): Promise<void>;
  failed?: boolean;
}

/** Creates one implementation on one XPU as the executor does, ready to be timed. */
export async function makeRunner(
  s: Stage,
  impl: ImplSpec,
  x: XpuInfo,
  frames: StageFrame[],
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
      // Sources produce successive frames; other stages see the frame their inputs came from, a
      // stateful one the window's frames in turn (past its end, the window again: calls beyond
      // it see a jump back in time, which a stage with history treats as a restart).
      const sample = frames[k % frames.length]!;
      const inputs = structuredClone(sample.inputs); // outside the timed region: the executor hands over, never copies
      const frame: FrameInfo = { seq: s.inputs.length === 0 ? sample.seq + k : sample.seq, t0: performance.now() };
      k++;
      const t = performance.now();
      const r = invoke(inputs, frame);
      if (r instanceof Promise) await r;
      return performance.now() - t;
    },
    close,
  };
}

export function timeCodec(codec: ModuleCodec, type: string, value: unknown): TopicCost {
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
