// Contracts of speculative rollout: the target model, the drafters and a rollout job.
import type { SamplingOptions } from './sampling.js';

/** The model whose output speculation must reproduce, run on fixed [rows, window] shapes. */
export interface Target {
  readonly vocab: number;
  /** Tokens per row of every call: always the full window, whatever the committed length. */
  readonly window: number;
  readonly contextDim: number;
  /** tokens int64 [rows * window], context [rows * contextDim]; logits only when asked. */
  run(tokens: BigInt64Array, context: Float32Array, rows: number, logits: boolean): Promise<{ argmax: BigInt64Array; logits?: Float32Array }>;
  close?(): Promise<void>;
}

/** Draft requests for a batch of rows: row i continues tokens[rows[i] * window .. + lens[i]). */
export interface DraftBatch {
  count: number;
  rows: Int32Array;
  lens: Int32Array;
  /** How many tokens to propose for each row. */
  ks: Int32Array;
  /** Committed tokens of every row, [allRows * window]. */
  tokens: Int32Array;
  window: number;
  /** Context of every row, [allRows * contextDim]. */
  context: Float32Array;
  /** Proposals: row i's tokens at out[i * stride ..]. */
  out: Int32Array;
  stride: number;
  /** False once the drafts are no longer wanted (a slow drafter stops early and shortens ks). */
  wanted?: () => boolean;
}

export interface Drafter {
  readonly name: string;
  propose(b: DraftBatch): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Factory module a draft worker imports (by URL): `createDrafters(names, options)`. */
export type DrafterFactory = (names: string[], options: Record<string, unknown>) => Promise<Drafter[]>;

export interface RolloutJob {
  rows: number;
  /** Committed tokens each row starts with (the prompt: the history). */
  prompt: number;
  /** Tokens to generate per row. */
  steps: number;
  /** [rows * window]: the prompts; the generated tokens are written after them. */
  tokens: Int32Array;
  context: Float32Array;
  sampling: SamplingOptions;
  seed: number;
}
