// Brute-force dynamic idempotency check, the ground truth the validator is measured against.
// For each tested k: restore the initial state, run blocks 0..k-1 (a run stopped after k
// blocks), optionally put garbage where the rest of the kernel would write (a block cut off
// half-way), re-run the whole grid from scratch, and compare every byte of every root
// allocation with an uninterrupted run. A mismatch proves "not idempotent"; no mismatch over
// all k and garbage patterns labels the instance idempotent.
import type { CorpusInstance } from './corpus.js';
import { prng } from './corpus.js';
import type { Device } from './device.js';

export interface OracleResult {
  idempotent: boolean;
  grid: number;
  trials: number;
  /** First failing trial, when not idempotent. */
  mismatch?: { k: number; garbage: boolean };
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

export function bruteForceIdempotent(device: Device, inst: CorpusInstance, opts: OracleOptions = {}): OracleResult {
  const r = prng(opts.seed ?? 7);
  const patterns = opts.garbagePatterns ?? 2;
  const initial = inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
  const restore = (state: Uint8Array[]) => inst.roots.forEach((b, i) => b.write(state[i]!));
  const snapshot = () => inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));

  restore(initial);
  const grid = device.runBlocks(inst.kernel, inst.args, 0, 0);
  device.runBlocks(inst.kernel, inst.args, 0, grid);
  const full = snapshot();
  let trials = 0;
  for (const k of stops(grid, r)) {
    for (let g = 0; g <= patterns; g++) {
      restore(initial);
      device.runBlocks(inst.kernel, inst.args, 0, k);
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
      device.runBlocks(inst.kernel, inst.args, 0, grid);
      trials++;
      const again = snapshot();
      for (let i = 0; i < again.length; i++) {
        if (!bytesEqual(again[i]!, full[i]!)) {
          restore(initial);
          return { idempotent: false, grid, trials, mismatch: { k, garbage: g > 0 } };
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
    validatorIdempotent: 0,
    falseNegativeRate: 0,
    fpInstances: [],
    perKernel: {},
  };
  for (const inst of corpus) {
    const said = device.validate(inst.kernel, inst.args).idempotent;
    const truth = bruteForceIdempotent(device, inst).idempotent;
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
