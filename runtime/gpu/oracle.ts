// Brute-force dynamic idempotency check, the ground truth the validator is measured against.
// A GPU runs a grid's blocks in any order, and a kill leaves any subset of them done. So for
// each trial: restore the initial state, run some blocks (the first k in order, or k chosen at
// random in a random order), optionally put garbage where the rest of the kernel would write
// (blocks cut off half-way), re-run the whole grid from scratch (in order, or in a random
// order), and compare every byte of every root allocation with an uninterrupted run in that
// same order.
// A mismatch proves "not idempotent"; no mismatch over all trials labels the instance
// idempotent. Writes the host can see before completion (host-visible side effects) escape
// the memory compared here: the host may already have acted on them, so such instances are
// not idempotent by definition.
import type { CorpusInstance } from './corpus.js';
import { prng } from './corpus.js';
import type { Device } from './device.js';

export interface OracleResult {
  idempotent: boolean;
  grid: number;
  trials: number;
  /** First failing trial, when not idempotent. */
  mismatch?: { k: number; garbage: boolean; shuffled: boolean };
  /** Not idempotent by definition: the kernel writes memory the host observes (no trial run). */
  hostVisible?: boolean;
}

export interface OracleOptions {
  /** Garbage patterns per k besides the clean stop (default 2). */
  garbagePatterns?: number;
  seed?: number;
}

/** The k values tried: every k for small grids, else the ends, the middle and a few random ones. */
function stops(grid: number, r: () => number): number[] {
  if (grid <= 10) return Array.from({ length: grid }, (_, i) => i);
  const ks = new Set([0, 1, 2, grid >> 1, grid - 2, grid - 1]);
  while (ks.size < 10) ks.add(Math.floor(r() * grid));
  return [...ks].sort((a, b) => a - b);
}

function shuffled(n: number, r: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function bruteForceIdempotent(device: Device, inst: CorpusInstance, opts: OracleOptions = {}): OracleResult {
  if (device.kernel(inst.kernel).sideEffects.includes('host-visible')) return { idempotent: false, grid: 0, trials: 0, hostVisible: true };
  const r = prng(opts.seed ?? 7);
  const patterns = opts.garbagePatterns ?? 2;
  const initial = inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
  const restore = (state: Uint8Array[]) => inst.roots.forEach((b, i) => b.write(state[i]!));
  const snapshot = () => inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
  const blocks = (order: number[], count: number) => {
    for (let i = 0; i < count; i++) device.runBlocks(inst.kernel, inst.args, order[i]!, order[i]! + 1);
  };

  restore(initial);
  const grid = device.runBlocks(inst.kernel, inst.args, 0, 0);
  const inOrder = Array.from({ length: grid }, (_, i) => i);
  /** An uninterrupted run in `order`: what a relaunch in that order must reproduce. */
  const reference = (order: number[]) => {
    restore(initial);
    blocks(order, grid);
    return snapshot();
  };
  const fullInOrder = reference(inOrder);
  let trials = 0;
  for (const k of stops(grid, r)) {
    // In order first, then (grids of more than one block) a random subset done and a random
    // relaunch order, compared with an uninterrupted run in that same order (a kernel whose
    // result depends on block order, e.g. a scatter with repeated indices, is not thereby
    // non-idempotent: its relaunch must only match some run a GPU could have made).
    for (const shuffle of grid > 1 ? [false, true] : [false]) {
      for (let g = 0; g <= patterns; g++) {
        const relaunch = shuffle ? shuffled(grid, r) : inOrder;
        const full = shuffle ? reference(relaunch) : fullInOrder;
        restore(initial);
        blocks(shuffle ? shuffled(grid, r) : inOrder, k);
        if (g > 0) {
          // Garbage in the bytes the remaining blocks change.
          const partial = snapshot();
          let touched = false;
          partial.forEach((p, i) => {
            const f = full[i]!;
            for (let j = 0; j < p.length; j++) {
              if (p[j] !== f[j]) {
                p[j] = Math.floor(r() * 256);
                touched = true;
              }
            }
          });
          if (!touched) continue;
          restore(partial);
        }
        blocks(relaunch, grid);
        trials++;
        const again = snapshot();
        for (let i = 0; i < again.length; i++) {
          if (!bytesEqual(again[i]!, full[i]!)) {
            restore(initial);
            return { idempotent: false, grid, trials, mismatch: { k, garbage: g > 0, shuffled: shuffle } };
          }
        }
      }
    }
  }
  restore(initial);
  return { idempotent: true, grid, trials };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface CorpusScore {
  instances: number;
  /** Validator said idempotent and the dynamic check found a mismatch: must be 0. */
  falsePositives: number;
  falseNegatives: number;
  /** Truly idempotent (by the dynamic check) instances. */
  dynamicIdempotent: number;
  /** Instances of kernels with host-visible writes: not idempotent by definition, not run. */
  hostVisible: number;
  validatorIdempotent: number;
  /** false negatives / dynamically idempotent instances. */
  falseNegativeRate: number;
  fpInstances: string[];
  /** Per kernel: [instances, validator idempotent, dynamic idempotent]. */
  perKernel: Record<string, [number, number, number]>;
}

/** Labels every instance with the dynamic check and compares with the validator's decision. */
export function scoreCorpus(device: Device, corpus: CorpusInstance[]): CorpusScore {
  const s: CorpusScore = {
    instances: corpus.length,
    falsePositives: 0,
    falseNegatives: 0,
    dynamicIdempotent: 0,
    hostVisible: 0,
    validatorIdempotent: 0,
    falseNegativeRate: 0,
    fpInstances: [],
    perKernel: {},
  };
  for (const inst of corpus) {
    const said = device.validate(inst.kernel, inst.args).idempotent;
    const oracle = bruteForceIdempotent(device, inst);
    const truth = oracle.idempotent;
    if (oracle.hostVisible) s.hostVisible++;
    const pk = (s.perKernel[inst.kernel] ??= [0, 0, 0]);
    pk[0]++;
    if (said) (s.validatorIdempotent++, pk[1]++);
    if (truth) (s.dynamicIdempotent++, pk[2]++);
    if (said && !truth) (s.falsePositives++, s.fpInstances.push(inst.id));
    if (!said && truth) s.falseNegatives++;
  }
  s.falseNegativeRate = s.dynamicIdempotent ? s.falseNegatives / s.dynamicIdempotent : 0;
  return s;
}
