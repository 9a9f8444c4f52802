// The detector stage: an ONNX model run by onnxruntime on the XPU's execution provider. By
// default the generated synthetic-scene detector (models/generated/detector.onnx, generated
// here on first use when the build has not made it yet); `model:=PATH` runs a user model
// instead, e.g. a YOLOv8 export (decode understands its [1, 4 + C, N] head).
import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { packageRoot } from '../../runtime/util/paths.js';
import { dropper } from '../perception-common/check.js';
import type { StampedTensor } from '../perception-common/messages.js';
import { createSession, ort } from '../perception-common/ort.js';

export function defaultModelPath(): string {
  return join(packageRoot(), 'models', 'generated', 'detector.onnx');
}

/** The default model file, generated now if the build has not made it. */
export async function ensureDefaultModel(): Promise<string> {
  const file = defaultModelPath();
  if (!existsSync(file)) {
    const dir = join(packageRoot(), 'models', 'generated');
    mkdirSync(dir, { recursive: true });
    const gen = (await import(pathToFileURL(join(packageRoot(), 'models', 'detector.gen.mjs')).href)) as { default: (dir: string) => Promise<void> };
    await gen.default(dir);
  }
  return file;
}

export async function createDetector(ctx: ImplContext): Promise<StageFn> {
  const param = String(ctx.params.model ?? '');
  let file: string;
  if (param) {
    file = isAbsolute(param) ? param : resolve(param);
    if (!existsSync(file)) throw new Error(`parameter 'model' of '${ctx.name}': no file '${file}'; expected a path to an .onnx model`);
  } else {
    file = await ensureDefaultModel();
  }
  const o = await ort();
  let session;
  try {
    session = await createSession(file, ctx.executionProvider, ctx.log, ctx);
  } catch (e) {
    throw new Error(`parameter 'model' of '${ctx.name}': onnxruntime cannot load '${file}': ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const drop = dropper(ctx);
  return async (inputs) => {
    const t = inputs.tensor as StampedTensor;
    if (!t || !Array.isArray(t.dims) || !(t.data instanceof Float32Array)) return drop('on tensor', 'expected an xauto/Tensor {dims, data: Float32Array}');
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) return drop('on tensor', `dims [${t.dims.join(', ')}] hold ${n} values, data has ${t.data.length}`);
    let out;
    try {
      out = await session.run({ [input]: new o.Tensor('float32', t.data, t.dims) });
    } catch (e) {
      // A tensor the model does not take (wrong shape): drop it, keep running.
      return drop('on tensor', `model '${file}' rejects dims [${t.dims.join(', ')}]: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    const r = out[output]!;
    const head: StampedTensor = { dims: [...r.dims], data: r.data as Float32Array, header: t.header };
    return { head };
  };
}
