// Rollout decoding: plain (one target call per token), coupled speculation (draft, then
// verify, in lock-step on one thread) and decoupled speculation (drafters run ahead on a
// worker thread while the target verifies here; see decoupled.ts). All three commit exactly
// the target's tokens: every call runs the target on the same fixed [rows, window] shape, and
// a row's result at a position depends only on the tokens up to it, so a verified draft sees
// bit for bit the floats plain decoding sees (test/speculate-identity.test.ts checks both
// properties of the model and the outputs).
import { rowStreams, type SamplingOptions } from './sampling.js';
import { newStats, PHASES, type RunStats } from './stats.js';
import type { DraftBatch, Drafter, RolloutJob, Target } from './types.js';
import { sampledScratch, sampleNext, verifyGreedy, verifySampled, type SampledScratch } from './verify.js';

/** One target call's rows: which rollout each call row is, and the draft it carries. */
export class CallBuffers {
  readonly tokens: BigInt64Array;
  readonly context: Float32Array;
  readonly rowOf: Int32Array;
  readonly k: Int32Array;
  readonly drafts: Int32Array;
  readonly out: Int32Array;
  count = 0;

  constructor(
    readonly target: Target,
    readonly capacity: number,
    readonly ahead: number,
  ) {
    this.tokens = new BigInt64Array(capacity * target.window);
    this.context = new Float32Array(capacity * target.contextDim);
    this.rowOf = new Int32Array(capacity);
    this.k = new Int32Array(capacity);
    this.drafts = new Int32Array(capacity * ahead);
    this.out = new Int32Array(ahead + 1);
  }

  /** Adds rollout `row` (committed length c) with k draft tokens taken from drafts[i * ahead]. */
  add(job: RolloutJob, row: number, c: number, k: number): number {
    const i = this.count++;
    const W = this.target.window;
    for (let p = 0; p < c; p++) this.tokens[i * W + p] = BigInt(job.tokens[row * W + p]!);
    for (let p = 0; p < k; p++) this.tokens[i * W + c + p] = BigInt(this.drafts[i * this.ahead + p]!);
    const C = this.target.contextDim;
    for (let j = 0; j < C; j++) this.context[i * C + j] = job.context[row * C + j]!;
    this.rowOf[i] = row;
    this.k[i] = k;
    return i;
  }
}

/** Verifies call row i and returns how many tokens it commits (written to call.out). */
export class Verifier {
  readonly #streams: Array<() => number>;
  readonly #scratch: SampledScratch;
  constructor(
    readonly job: RolloutJob,
    readonly target: Target,
  ) {
    this.#streams = rowStreams(job.seed, job.rows);
    this.#scratch = sampledScratch(target.vocab);
  }

  get greedy(): boolean {
    return this.job.sampling.temperature <= 0;
  }

  /** q: the drafter's distribution of draft token j into out (null: one-hot drafts). */
  verify(call: CallBuffers, i: number, c: number, r: { argmax: BigInt64Array; logits?: Float32Array }, q: ((j: number, out: Float64Array) => void) | null = null): { committed: number; accepted: number } {
    const W = this.target.window;
    const V = this.target.vocab;
    const k = call.k[i]!;
    if (this.greedy) return verifyGreedy(r.argmax, i * W, c, call.drafts, i * call.ahead, k, call.out);
    const rand = this.#streams[call.rowOf[i]!]!;
    if (k === 0) {
      call.out[0] = sampleNext(r.logits!, i * W * V, V, c - 1, this.job.sampling, rand, this.#scratch);
      return { committed: 1, accepted: 0 };
    }
    return verifySampled(r.logits!, i * W * V, V, c, call.drafts, i * call.ahead, k, this.job.sampling, rand, q, this.#scratch, call.out);
  }
}

export const jobEnd = (j: RolloutJob) => j.prompt + j.steps;
export const phaseOf = (j: RolloutJob, c: number) => Math.min(PHASES - 1, Math.floor(((c - j.prompt) * PHASES) / j.steps));

/** Commits n tokens of call.out to the rollout; returns the new committed length. */
export function commit(job: RolloutJob, row: number, c: number, out: Int32Array, n: number): number {
  const m = Math.min(n, jobEnd(job) - c);
  job.tokens.set(out.subarray(0, m), row * job.tokens.length / job.rows + c);
  return c + m;
}

/** Plain decoding: every call commits one token per rollout. */
export async function decodePlain(job: RolloutJob, target: Target): Promise<RunStats> {
  const stats = newStats('plain', job.rows, []);
  const call = new CallBuffers(target, job.rows, 1);
  const v = new Verifier(job, target);
  const t0 = performance.now();
  for (let c = job.prompt; c < jobEnd(job); c++) {
    call.count = 0;
    for (let row = 0; row < job.rows; row++) call.add(job, row, c, 0);
    const r = await target.run(call.tokens, call.context, call.count, !v.greedy);
    stats.calls++;
    stats.callRows += call.count;
    for (let i = 0; i < call.count; i++) {
      v.verify(call, i, c, r);
      commit(job, call.rowOf[i]!, c, call.out, 1);
      stats.rowCalls[i]!++;
    }
  }
  stats.ms = performance.now() - t0;
  stats.tokens = job.rows * job.steps;
  return stats;
}

/** Naive speculation: one drafter, a fixed draft length, drafting and verifying in turn. */
export async function decodeCoupled(job: RolloutJob, target: Target, drafter: Drafter, k: number): Promise<RunStats> {
  const stats = newStats('coupled', job.rows, [drafter.name]);
  const ds = stats.drafters[drafter.name]!;
  const call = new CallBuffers(target, job.rows, k);
  const v = new Verifier(job, target);
  const lens = new Int32Array(job.rows).fill(job.prompt);
  const end = jobEnd(job);
  const batch: DraftBatch = { count: 0, rows: new Int32Array(job.rows), lens: new Int32Array(job.rows), ks: new Int32Array(job.rows), tokens: job.tokens, window: target.window, context: job.context, out: call.drafts, stride: k };
  const t0 = performance.now();
  for (;;) {
    batch.count = 0;
    for (let row = 0; row < job.rows; row++) {
      if (lens[row]! >= end) continue;
      const i = batch.count++;
      batch.rows[i] = row;
      batch.lens[i] = lens[row]!;
      batch.ks[i] = Math.min(k, end - lens[row]! - 1);
    }
    if (batch.count === 0) break;
    await drafter.propose(batch);
    call.count = 0;
    for (let i = 0; i < batch.count; i++) call.add(job, batch.rows[i]!, batch.lens[i]!, batch.ks[i]!);
    const r = await target.run(call.tokens, call.context, call.count, !v.greedy);
    stats.calls++;
    stats.callRows += call.count;
    for (let i = 0; i < call.count; i++) {
      const row = call.rowOf[i]!;
      const c = lens[row]!;
      const { committed, accepted } = v.verify(call, i, c, r);
      ds.proposed[phaseOf(job, c)]! += call.k[i]!;
      ds.accepted[phaseOf(job, c)]! += accepted;
      ds.chosen++;
      lens[row] = commit(job, row, c, call.out, committed);
      stats.rowCalls[row]!++;
    }
  }
  stats.ms = performance.now() - t0;
  stats.tokens = job.rows * job.steps;
  return stats;
}

export type { SamplingOptions };
