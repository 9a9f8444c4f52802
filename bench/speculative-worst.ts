// The worst case of speculation against plain decoding (bench/speculative.ts): for every batch
// size and every speculative mode (each single drafter, the random one included, and the
// dynamic best-of-N), blocks of jobs decoded plain and speculatively side by side. A block holds
// at least 1920 tokens (64 jobs of one rollout at batch 1), so one scheduler stall of a loaded
// machine is a small part of it and a drafter set's payoff retries fall inside it at their own
// rate. Pairs alternate which of the two runs first (the run after another differs from the
// first), and a cell's figure is the median over pairs of plain block time / speculative block
// time. Plain against plain in the same design is the control: how far two identical paths
// differ here. Each batch size starts from no payoff history, so its first jobs speculate.
import { decodePlain } from '../runtime/speculate/engine.js';
import { quantile } from '../runtime/trace/stats.js';
import { decodeDecoupled, type DecoupledOptions, type DraftWorker } from '../runtime/speculate/decoupled.js';
import type { Target } from '../runtime/speculate/types.js';
import { createDrafters } from '../xnodes/planning/drafters.js';
import { jobOf, type History } from '../xnodes/planning/jobs.js';
import { H } from '../xnodes/planning/motion.js';

interface Trajectory {
  cls: number;
  xs: Float64Array;
  ys: Float64Array;
}

export const WORST_MODES = ['plain', 'speculative:model', 'speculative:kinematic', 'speculative:ngram', 'speculative:random', 'dynamic'] as const;

export interface WorstCell {
  rows: number;
  mode: string;
  median: number;
  q1: number;
  q3: number;
}


async function optionsOf(mode: string, rows: number): Promise<DecoupledOptions> {
  if (mode === 'speculative:model') return { use: ['model'] };
  if (mode === 'dynamic') return { use: ['model'], inline: await createDrafters(['kinematic', 'ngram'], { rows }) };
  return { use: [], inline: await createDrafters([mode.slice('speculative:'.length)], { rows }) };
}

/** Milliseconds to decode the block's jobs in `mode`; identical: every rollout equalled plain's. */
async function block(mode: string, hs: History[][], target: Target, worker: DraftWorker, plain?: Int32Array[]): Promise<{ ms: number; tokens: Int32Array[]; identical: boolean }> {
  const jobs = hs.map((h) => jobOf(h).job);
  // Drafters keep per-job state (the n-gram table): a fresh set per job, made before timing.
  const opts = mode === 'plain' ? [] : await Promise.all(jobs.map((j) => optionsOf(mode, j.rows)));
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i++) {
    if (mode === 'plain') await decodePlain(jobs[i]!, target);
    else await decodeDecoupled(jobs[i]!, target, worker, opts[i]!);
  }
  const ms = performance.now() - t0;
  const identical = !plain || jobs.every((j, i) => Buffer.from(j.tokens.buffer).equals(Buffer.from(plain[i]!.buffer)));
  return { ms, tokens: jobs.map((j) => j.tokens), identical };
}

export async function worstCase(trs: Trajectory[], target: Target, worker: DraftWorker, pairs: number, log: (line: string) => void) {
  const cells: WorstCell[] = [];
  let identical = true;
  log('batch  mode                   plain/speculative time per block: median (q1-q3) over pairs');
  for (const rows of [1, 16, 64, 256]) {
    worker.paid.clear();
    const perBlock = Math.max(1, Math.ceil(64 / rows));
    const ratios = new Map<string, number[]>(WORST_MODES.map((m) => [m, []]));
    for (let p = 0; p < pairs; p++) {
      const hs = Array.from({ length: perBlock }, (_, j) => {
        const off = ((p * perBlock + j) * 37 + rows) % trs.length;
        return Array.from({ length: rows }, (_, i): History => {
          const x = trs[(off + i) % trs.length]!;
          return { cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) };
        });
      });
      for (const [m, mode] of WORST_MODES.entries()) {
        // Alternate the order by pair and by mode, so neither side always runs first.
        if ((p + m) % 2 === 0) {
          const a = await block('plain', hs, target, worker);
          const b = await block(mode, hs, target, worker, a.tokens);
          identical &&= b.identical;
          ratios.get(mode)!.push(a.ms / b.ms);
        } else {
          const b = await block(mode, hs, target, worker);
          const a = await block('plain', hs, target, worker, b.tokens);
          identical &&= a.identical;
          ratios.get(mode)!.push(a.ms / b.ms);
        }
      }
    }
    for (const mode of WORST_MODES) {
      const r = ratios.get(mode)!.sort((x, y) => x - y);
      const c = { rows, mode, median: quantile(r, 0.5), q1: quantile(r, 0.25), q3: quantile(r, 0.75) };
      cells.push(c);
      log(`${String(rows).padStart(5)}  ${(mode === 'plain' ? 'plain (control)' : mode).padEnd(22)} ${c.median.toFixed(3)} (${c.q1.toFixed(3)}-${c.q3.toFixed(3)})`);
    }
  }
  const spec = cells.filter((c) => c.mode !== 'plain');
  const worst = spec.reduce((a, c) => (c.median < a.median ? c : a));
  const control = cells.filter((c) => c.mode === 'plain');
  return {
    worst,
    identical,
    /** Plain against plain: the largest distance of a batch's median from 1, and the widest spread of its pairs. */
    controlBias: Math.max(...control.map((c) => Math.abs(c.median - 1))),
    controlSpread: Math.max(...control.map((c) => c.q3 - c.q1)),
  };
}
