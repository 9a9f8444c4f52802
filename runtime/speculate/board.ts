// Shared memory between the verifier and the draft worker. The verifier owns the committed
// tokens and lengths (they only grow); the worker owns the drafts. A draft is stamped with
// the committed length it continues (its base) and guarded by a sequence number (odd while
// it is being written), so the verifier never reads a torn draft and can tell a stale one
// (built on tokens that verification then rejected) from a usable one.
import type { PayoffHistory } from './payoff.js';

export interface BoardShape {
  rows: number;
  window: number;
  drafters: number;
  /** Longest draft kept per row and drafter. */
  ahead: number;
  contextDim: number;
}

export interface Board extends BoardShape {
  committed: Int32Array;
  lens: Int32Array;
  /** Per row and drafter: how far ahead to draft (0 = not at all). */
  want: Int32Array;
  /** [0]: generation (bumped on every commit), [1]: drafting on, [2]: drafts published (bumped by the worker). */
  control: Int32Array;
  drafts: Int32Array;
  /** Per row and drafter: seq, base, len. */
  meta: Int32Array;
  context: Float32Array;
  /** Per drafter: milliseconds spent drafting, and tokens drafted (written by the worker). */
  cost: Float64Array;
  buffers: SharedArrayBuffer[];
}

export function createBoard(s: BoardShape): Board {
  const sab = (n: number) => new SharedArrayBuffer(Math.max(4, n * 4));
  const buffers = [sab(s.rows * s.window), sab(s.rows), sab(s.rows * s.drafters), sab(3), sab(s.rows * s.drafters * s.ahead), sab(s.rows * s.drafters * 3), sab(s.rows * s.contextDim), sab(s.drafters * 4)];
  return attachBoard(s, buffers);
}

export function attachBoard(s: BoardShape, buffers: SharedArrayBuffer[]): Board {
  const [c, l, w, ctl, d, m, x, k] = buffers as [SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer];
  return {
    ...s,
    committed: new Int32Array(c),
    lens: new Int32Array(l),
    want: new Int32Array(w),
    control: new Int32Array(ctl),
    drafts: new Int32Array(d),
    meta: new Int32Array(m),
    context: new Float32Array(x),
    cost: new Float64Array(k),
    buffers,
  };
}

/** Worker side: publishes a draft of `len` tokens (from src[soff..]) continuing `base` committed tokens. */
export function writeDraft(b: Board, row: number, d: number, base: number, src: Int32Array, soff: number, len: number): void {
  const slot = row * b.drafters + d;
  Atomics.add(b.meta, slot * 3, 1);
  const n = Math.min(len, b.ahead);
  b.drafts.set(src.subarray(soff, soff + n), slot * b.ahead);
  Atomics.store(b.meta, slot * 3 + 1, base);
  Atomics.store(b.meta, slot * 3 + 2, n);
  Atomics.add(b.meta, slot * 3, 1);
}

export const NO_DRAFT = -1;
export const STALE = -2;

/**
 * Verifier side: copies the usable part of a draft (the tokens after the committed length c)
 * into out[off..]; returns how many, NO_DRAFT when none is there (or one is being written),
 * STALE when the draft contradicts committed tokens.
 */
export function readDraft(b: Board, row: number, d: number, c: number, max: number, out: Int32Array, off: number): number {
  const slot = row * b.drafters + d;
  const seq = Atomics.load(b.meta, slot * 3);
  if (seq === 0 || seq & 1) return NO_DRAFT;
  const base = Atomics.load(b.meta, slot * 3 + 1);
  const len = Atomics.load(b.meta, slot * 3 + 2);
  if (base > c) return NO_DRAFT;
  const skip = c - base;
  if (skip >= len) return NO_DRAFT;
  const from = slot * b.ahead;
  const rowBase = row * b.window;
  for (let i = 0; i < skip; i++) if (b.drafts[from + i] !== b.committed[rowBase + base + i]) return Atomics.load(b.meta, slot * 3) === seq ? STALE : NO_DRAFT;
  const n = Math.min(max, len - skip);
  for (let i = 0; i < n; i++) out[off + i] = b.drafts[from + skip + i]!;
  return Atomics.load(b.meta, slot * 3) === seq ? n : NO_DRAFT;
}

/** Atomics.waitAsync (Node 20 has it; the TypeScript lib this project targets does not declare it). */
export const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { value: Promise<unknown> | string } }).waitAsync;

/**
 * Where the verifier's worker-side drafts come from: a draft worker drafting while it verifies
 * (live), or drafts made beforehand for the whole rollout (a draft stage on another XPU).
 */
export interface DraftSource {
  readonly drafters: string[];
  readonly ahead: number;
  readonly board: Board;
  /** Per drafter name: acceptance over the jobs served so far (new rollouts start from it). */
  readonly priors: Map<string, number>;
  /** Per drafter set: whether speculation paid in its last job (Payoff). */
  readonly paid: Map<string, PayoffHistory>;
  /** Target call time (ms), smoothed over jobs. */
  callMs: number;
  /** True when drafts keep arriving while the verifier works (worth a short wait). */
  readonly live: boolean;
  /** Loads the job's prompts onto the board (draft false: the job uses none of this source's drafters). */
  begin(job: { rows: number; prompt: number; steps: number; tokens: Int32Array; context: Float32Array }, contextDim: number, draft?: boolean): Promise<void>;
  notify(): void;
  end(): void;
  /**
   * The distribution drafter d drew its token at position pos of row from, into out (every
   * entry written); false when it has none (the draft counts as one-hot).
   */
  q?(row: number, d: number, pos: number, out: Float64Array): boolean;
}
