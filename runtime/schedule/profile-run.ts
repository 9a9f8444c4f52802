// Profiling, the part that runs things: a sample message on every topic (the pipeline run a
// few frames), and each (implementation, XPU) pair created as the executor creates it, ready
// to be called with those samples and timed; the module baseline's codec timed on them too.
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
}

/** Runs the pipeline a few frames and keeps the last message of every topic. */
export async function captureSamples(graph: Graph, xpus: XpuInfo[], log: (l: string) => void): Promise<Map<string, Sample>> {
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
export function stageInputs(s: Stage, samples: Map<string, Sample>): { inputs: PortValues; seq: number } | undefined {
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
