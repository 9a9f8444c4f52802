// The rollout models (models/rollout.gen.mjs) as speculation targets and drafters, run by
// onnxruntime on fixed shapes.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Ort from 'onnxruntime-node';
import { packageRoot } from '../../runtime/util/paths.js';
import type { Target } from '../../runtime/speculate/types.js';
import { createSession, ort } from '../perception-common/ort.js';
import { CONTEXT, VOCAB, WINDOW } from './motion.js';

const generated = () => join(packageRoot(), 'models', 'generated');

/** The model files, generated now if the build has not made them. */
export async function ensureRolloutModels(): Promise<{ target: string; draft: string }> {
  const target = join(generated(), 'rollout-target.onnx');
  const draft = join(generated(), 'rollout-draft.onnx');
  if (!existsSync(target) || !existsSync(draft)) {
    mkdirSync(generated(), { recursive: true });
    const gen = (await import(pathToFileURL(join(packageRoot(), 'models', 'rollout.gen.mjs')).href)) as { default: (dir: string) => Promise<void> };
    await gen.default(generated());
  }
  return { target, draft };
}

/** An onnxruntime session over a fixed [rows, window] token window. */
export class OrtWindowModel implements Target {
  readonly vocab = VOCAB;
  readonly contextDim = CONTEXT;
  private constructor(
    private readonly o: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly window: number,
  ) {}

  static async open(file: string, window: number, ep?: string, log: (m: string) => void = () => {}): Promise<OrtWindowModel> {
    return new OrtWindowModel(await ort(), await createSession(file, ep, log), window);
  }

  async run(tokens: BigInt64Array, context: Float32Array, rows: number, logits: boolean): Promise<{ argmax: BigInt64Array; logits?: Float32Array }> {
    const W = this.window;
    const feeds = {
      tokens: new this.o.Tensor('int64', tokens.subarray(0, rows * W), [rows, W]),
      context: new this.o.Tensor('float32', context.subarray(0, rows * CONTEXT), [rows, CONTEXT]),
    };
    const r = await this.session.run(feeds, logits ? ['argmax', 'logits'] : ['argmax']);
    return { argmax: r.argmax!.data as BigInt64Array, logits: logits ? (r.logits!.data as Float32Array) : undefined };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export async function openTarget(ep?: string, log?: (m: string) => void): Promise<OrtWindowModel> {
  return OrtWindowModel.open((await ensureRolloutModels()).target, WINDOW, ep, log);
}
