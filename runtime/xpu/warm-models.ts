// Warm models: the onnxruntime sessions of a launch, kept in its checkpoint image so that a
// start from the image (issue 13, fast cold start) opens them already optimized.
//
// While the launch checkpoints, each session it opens also writes onnxruntime's optimized
// model (ORT format: the graph optimizations of the level the stage asked for applied,
// nothing left to parse but a flatbuffer) and, on its first run, a probe: that run's inputs
// and outputs. These go into a staging folder; the launch puts them into the image as blobs
// with checksums in the manifest (cli/checkpointing.ts). A start from the image opens the
// optimized model with graph optimization disabled (already applied), runs the probe and
// keeps the session only when every output equals the probe's bit for bit (the same
// onnxruntime running the same optimized graph runs the same kernels); otherwise it says why
// and opens the source model as a cold start does. The probe run is also the session's first
// run (arena, kernel set-up), so the first frame finds the session warm.
//
// The launch tells every thread what to do through XAUTO_WARM_MODELS, set before the threads
// that open sessions start (a worker thread takes a copy of the environment when it starts):
// {"save": DIR, "load": {KEY: {model: FILE, probe: FILE}}}, either or both (a run restored from
// an image that goes on checkpointing stages the models its image did not have).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';

export const WARM_MODELS_ENV = 'XAUTO_WARM_MODELS';

export interface WarmModelsMode {
  save?: string;
  load?: Record<string, WarmModelFiles>;
}

export interface WarmModelFiles {
  model: string;
  probe: string;
}

/** What a staged (or imaged) warm model is. */
export interface WarmModelInfo {
  key: string;
  /** Who opened it (stage name, or the model file's name). */
  name: string;
  /** The onnxruntime-node version that optimized it. */
  ort: string;
  executionProvider: string;
  graphOptimizationLevel: string;
  /** Measured when it was staged (ms): opening the source model, opening the warm one, a run once warm. */
  sourceOpenMs: number;
  warmOpenMs: number;
  runMs: number;
}

/**
 * Whether opening from the warm model pays: what it saves on opening must exceed the run that
 * checks it (the probe; the first frame then finds the session warm, so that run's set-up is
 * not counted twice). Small models are optimized in a few ms and are not worth their check.
 */
export function warmPays(i: Pick<WarmModelInfo, 'sourceOpenMs' | 'warmOpenMs' | 'runMs'>): boolean {
  return i.sourceOpenMs - i.warmOpenMs > i.runMs;
}

/** How a session was opened, for the run summary. */
export interface SessionOpened {
  warm: boolean;
  openMs: number;
  /** Why a warm model was not used (absent: it was, or there was none). */
  refused?: string;
}

let version: string | undefined;

/** The installed onnxruntime-node's version, without loading its native library. */
export function ortVersion(): string {
  version ??= (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  return version;
}

export function modeOf(env: NodeJS.ProcessEnv = process.env): WarmModelsMode | undefined {
  const v = env[WARM_MODELS_ENV];
  if (!v) return undefined;
  try {
    const m = JSON.parse(v) as WarmModelsMode;
    return typeof m === 'object' && m && (typeof m.save === 'string' || typeof m.load === 'object') ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The options of a session that decide its optimized model (not where it is dumped). */
type KeyOptions = Pick<Ort.InferenceSession.SessionOptions, 'graphOptimizationLevel' | 'intraOpNumThreads' | 'interOpNumThreads'>;

/** A model's identity: its bytes, the provider, the options and the onnxruntime version. */
export function modelKey(bytes: Uint8Array, provider: string, opts: KeyOptions): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([ortVersion(), provider, opts.graphOptimizationLevel ?? 'all', opts.intraOpNumThreads ?? 0, opts.interOpNumThreads ?? 0]));
  h.update(bytes);
  return h.digest('hex').slice(0, 24);
}

// --- probes: a run's feeds and outputs, as one file -------------------------------------

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const;
type ProbeType = keyof typeof ARRAYS;

interface ProbeTensor {
  name: string;
  type: ProbeType;
  dims: number[];
  data: Uint8Array;
}

export interface Probe {
  feeds: ProbeTensor[];
  outputs: ProbeTensor[];
}

const MAGIC = 'xauto-probe-1\n';

function asProbeTensor(name: string, t: Ort.Tensor): ProbeTensor | undefined {
  if (!(t.type in ARRAYS) || t.location !== 'cpu') return undefined;
  const d = t.data as ArrayBufferView;
  return { name, type: t.type as ProbeType, dims: [...t.dims], data: new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)) };
}

export function encodeProbe(p: Probe): Buffer {
  const all = [...p.feeds, ...p.outputs];
  const head = Buffer.from(JSON.stringify({ feeds: p.feeds.length, tensors: all.map((t) => ({ name: t.name, type: t.type, dims: t.dims, bytes: t.data.byteLength })) }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  return Buffer.concat([Buffer.from(MAGIC), len, head, ...all.map((t) => t.data)]);
}

export function decodeProbe(b: Buffer): Probe {
  if (b.subarray(0, MAGIC.length).toString() !== MAGIC) throw new Error('not a probe file');
  const n = b.readUInt32LE(MAGIC.length);
  const head = JSON.parse(b.subarray(MAGIC.length + 4, MAGIC.length + 4 + n).toString()) as { feeds: number; tensors: Array<Omit<ProbeTensor, 'data'> & { bytes: number }> };
  let at = MAGIC.length + 4 + n;
  const ts = head.tensors.map((t) => {
    if (!(t.type in ARRAYS)) throw new Error(`probe tensor '${t.name}': type '${t.type}'`);
    if (b.length < at + t.bytes) throw new Error('probe file is short');
    const data = new Uint8Array(t.bytes);
    data.set(b.subarray(at, at + t.bytes));
    at += t.bytes;
    return { name: t.name, type: t.type, dims: t.dims, data };
  });
  return { feeds: ts.slice(0, head.feeds), outputs: ts.slice(head.feeds) };
}

function toTensor(o: typeof Ort, t: ProbeTensor): Ort.Tensor {
  const A = ARRAYS[t.type];
  const data = new A(t.data.buffer as ArrayBuffer, t.data.byteOffset, t.data.byteLength / A.BYTES_PER_ELEMENT);
  return new o.Tensor(t.type, data as Ort.Tensor.DataType, t.dims);
}

/** Why `outputs` differ from the probe's (undefined: equal, bit for bit). */
export function probeDiffers(p: Probe, outputs: Record<string, Ort.Tensor>): string | undefined {
  for (const want of p.outputs) {
    const got = outputs[want.name];
    const t = got && asProbeTensor(want.name, got);
    if (!t) return `output '${want.name}' is missing`;
    if (t.type !== want.type || t.dims.join() !== want.dims.join()) return `output '${want.name}' is ${t.type}[${t.dims.join(', ')}], the probe's ${want.type}[${want.dims.join(', ')}]`;
    if (!Buffer.from(t.data).equals(Buffer.from(want.data))) return `output '${want.name}' differs from the probe's`;
  }
  return undefined;
}

// --- opening sessions --------------------------------------------------------------------

const now = () => performance.now();
/** Warm runs timed, and pairs of openings, before a model is staged. */
const TIMED = 3;
const create = (o: typeof Ort, model: string | Uint8Array, opts: Ort.InferenceSession.SessionOptions) =>
  typeof model === 'string' ? o.InferenceSession.create(model, opts) : o.InferenceSession.create(model, opts);

/**
 * Opens a session of `model` as the mode says: from the warm model of the image when it has
 * one that passes its probe, else from the source model (also staging its warm model when
 * saving).
 */
export async function openSession(
  o: typeof Ort,
  model: string | Uint8Array,
  opts: Ort.InferenceSession.SessionOptions,
  name: string,
  log: (m: string) => void,
  mode: WarmModelsMode | undefined = modeOf(),
): Promise<{ session: Ort.InferenceSession; opened: SessionOpened }> {
  const t0 = now();
  const provider = String(opts.executionProviders?.[0] ?? 'cpu');
  const bytes = mode ? (typeof model === 'string' ? readFileSync(model) : model) : undefined;
  const key = bytes && modelKey(bytes, provider, opts);
  let refused: string | undefined;
  const files = key ? mode?.load?.[key] : undefined;
  if (files) {
    try {
      const s = await openWarm(o, files, opts);
      if (s.session) return { session: s.session, opened: { warm: true, openMs: now() - t0 } };
      refused = s.why;
    } catch (e) {
      refused = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
    log(`warm model of '${name}' not used (${refused}); opening the source model`);
  }
  if (!mode?.save || !key) return { session: await create(o, model, opts), opened: { warm: false, openMs: now() - t0, refused } };
  const dir = mode.save;
  mkdirSync(dir, { recursive: true });
  // Several threads may open the same model (a stage on every worker of a pool): each dumps
  // into a file of its own and renames it into place (the same bytes either way).
  const tmp = join(dir, `${key}.${process.pid}-${threadId}.ort.tmp`);
  // Its one warning (an optimized model of level 'all' may hold layouts for this CPU) is what
  // the probe checks at a start from the image: not printed.
  const session = await create(o, model, { ...opts, logSeverityLevel: 3, optimizedModelFilePath: tmp, extra: { ...opts.extra, session: { ...(opts.extra?.session as object), save_model_format: 'ORT' } } });
  const opened: SessionOpened = { warm: false, openMs: now() - t0, refused };
  try {
    await rename(tmp, join(dir, `${key}.ort`));
  } catch (e) {
    log(`warm model of '${name}' not staged (${(e as Error).message})`);
    return { session, opened };
  }
  const info = { key, name, ort: ortVersion(), executionProvider: provider, graphOptimizationLevel: String(opts.graphOptimizationLevel ?? 'all') };
  captureProbe(o, session, model, dir, info, opts, log);
  return { session, opened };
}

async function openWarm(o: typeof Ort, files: WarmModelFiles, opts: Ort.InferenceSession.SessionOptions): Promise<{ session?: Ort.InferenceSession; why?: string }> {
  const probe = decodeProbe(readFileSync(files.probe));
  const session = await o.InferenceSession.create(files.model, {
    ...opts,
    graphOptimizationLevel: 'disabled',
    extra: { ...opts.extra, session: { ...(opts.extra?.session as object), load_model_format: 'ORT' } },
  });
  const feeds: Record<string, Ort.Tensor> = {};
  for (const f of probe.feeds) feeds[f.name] = toTensor(o, f);
  const why = probeDiffers(probe, await session.run(feeds, probe.outputs.map((t) => t.name)));
  if (!why) return { session };
  await session.release();
  return { why };
}

/**
 * The session's first run becomes the probe; after TIMED warm runs (timed) the source model
 * and the warm one are opened again, timed in pairs side by side (the first session of a
 * thread also pays onnxruntime's own set-up: not the model's), and the descriptor is written,
 * last: the model is staged.
 */
function captureProbe(
  o: typeof Ort,
  session: Ort.InferenceSession,
  source: string | Uint8Array,
  dir: string,
  info: Omit<WarmModelInfo, 'sourceOpenMs' | 'warmOpenMs' | 'runMs'>,
  opts: Ort.InferenceSession.SessionOptions,
  log: (m: string) => void,
): void {
  const run = session.run.bind(session) as (...a: unknown[]) => Promise<Ort.InferenceSession.ReturnType>;
  const s = session as { run: unknown };
  const tag = `${process.pid}-${threadId}`;
  const model = join(dir, `${info.key}.ort`);
  const fail = (e: Error) => log(`warm model of '${info.name}' not staged (${e.message})`);
  let probed: Promise<boolean> | undefined;
  const runs: number[] = [];
  s.run = async (...a: unknown[]) => {
    const t0 = now();
    const out = await run(...a);
    const ms = now() - t0;
    if (probed) {
      runs.push(ms);
      if (runs.length < TIMED) return out;
      s.run = run; // warm runs timed: done
      const p = probed;
      void (async () => {
        if (!(await p)) return;
        const opened = async (m: string | Uint8Array, o2: Ort.InferenceSession.SessionOptions) => {
          const t1 = now();
          const x = await create(o, m, o2);
          const t = now() - t1;
          await x.release();
          return t;
        };
        const warmOpts = { ...opts, graphOptimizationLevel: 'disabled' as const, extra: { ...opts.extra, session: { ...(opts.extra?.session as object), load_model_format: 'ORT' } } };
        // Pairs side by side, the least of each (a busy machine only ever adds): a large model
        // whose one opening is long is decided by one pair.
        let [sourceOpenMs, warmOpenMs] = [Infinity, Infinity];
        const t0 = now();
        for (let i = 0; i < TIMED && (i === 0 || now() - t0 < 250); i++) {
          sourceOpenMs = Math.min(sourceOpenMs, await opened(source, opts));
          warmOpenMs = Math.min(warmOpenMs, await opened(model, warmOpts));
        }
        const desc = join(dir, `${info.key}.json`);
        await writeFile(`${desc}.${tag}.tmp`, JSON.stringify({ ...info, sourceOpenMs, warmOpenMs, runMs: Math.min(...runs) } satisfies WarmModelInfo));
        await rename(`${desc}.${tag}.tmp`, desc);
      })().catch(fail);
      return out;
    }
    const feeds = a[0] as Record<string, Ort.Tensor>;
    const p: Probe = { feeds: [], outputs: [] };
    for (const [n, t] of Object.entries(feeds)) p.feeds.push(asProbeTensor(n, t)!);
    for (const [n, t] of Object.entries(out)) p.outputs.push(asProbeTensor(n, t)!);
    if ([...p.feeds, ...p.outputs].some((t) => !t)) {
      s.run = run; // strings or device tensors: no probe, not staged
      return out;
    }
    const probe = join(dir, `${info.key}.probe`);
    probed = (async () => {
      await writeFile(`${probe}.${tag}.tmp`, encodeProbe(p));
      await rename(`${probe}.${tag}.tmp`, probe);
    })().then(
      () => true,
      (e: Error) => (fail(e), false),
    );
    return out;
  };
}

/** Warm models staged in `dir` so far: descriptor, model bytes and probe bytes. */
export function stagedModels(dir: string): Array<{ info: WarmModelInfo; model: Buffer; probe: Buffer }> {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const n of readdirSync(dir)) {
    if (!n.endsWith('.json')) continue;
    try {
      const info = JSON.parse(readFileSync(join(dir, n), 'utf8')) as WarmModelInfo;
      out.push({ info, model: readFileSync(join(dir, `${info.key}.ort`)), probe: readFileSync(join(dir, `${info.key}.probe`)) });
    } catch {
      // being replaced by another thread's copy: taken at the next cut
    }
  }
  return out;
}
