// The worst case of speculation against plain decoding (bench/speculative.ts): for every batch
// size and every speculative mode (each single drafter, the random one included, and the
// dynamic best-of-N), blocks of jobs decoded plain and speculatively side by side. A block holds
// at least 1920 tokens (64 jobs of one rollout at batch 1) and at least 4 jobs (one ABBA cycle,
// below), so a drafter set's payoff retries fall inside it at their own rate. The two sides of
// a pair are interleaved job by job: job i is decoded plain and speculatively back to back, in
// ABBA order (the run after another differs from the first), so both sides see the host as it
// was within a few milliseconds; a loaded host's load moves on a scale of tens to hundreds of
// them, and pairing whole blocks left that in the ratio (plain against plain at batch 1 was
// 0.89-0.94 under load). A pair's ratio is the plain side's summed job time / the speculative
// side's, and a cell's figure the median over pairs. Plain against plain in the same design is
// the control: how far two identical paths differ here. Each batch size starts from no payoff
// history, so its first jobs speculate.
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

/**
 * One pair: the block's jobs decoded plain and in `mode`, interleaved job by job (ABBA, starting
 * with plain when `plainFirst`). Returns each side's summed job time (ms) and whether every
 * rollout of `mode` equalled plain decoding's.
 */
async function pair(mode: string, hs: History[][], target: Target, worker: DraftWorker, plainFirst: boolean): Promise<{ plainMs: number; modeMs: number; identical: boolean }> {
  const plain = hs.map((h) => jobOf(h).job);
  const other = hs.map((h) => jobOf(h).job);
  // Drafters keep per-job state (the n-gram table): a fresh set per job, made before timing.
  const opts = mode === 'plain' ? [] : await Promise.all(other.map((j) => optionsOf(mode, j.rows)));
  let plainMs = 0;
  let modeMs = 0;
  const runPlain = async (i: number) => {
    const t0 = performance.now();
    await decodePlain(plain[i]!, target);
    plainMs += performance.now() - t0;
  };
  const runMode = async (i: number) => {
    const t0 = performance.now();
    if (mode === 'plain') await decodePlain(other[i]!, target);
    else await decodeDecoupled(other[i]!, target, worker, opts[i]!);
    modeMs += performance.now() - t0;
  };
  for (let i = 0; i < plain.length; i++) {
    const abba = i % 4 === 0 || i % 4 === 3;
    if (abba === plainFirst) {
      await runPlain(i);
      await runMode(i);
    } else {
      await runMode(i);
      await runPlain(i);
    }
  }
  const identical = other.every((j, i) => Buffer.from(j.tokens.buffer).equals(Buffer.from(plain[i]!.tokens.buffer)));
  return { plainMs, modeMs, identical };
}

export async function worstCase(trs: Trajectory[], target: Target, worker: DraftWorker, pairs: number, log: (line: string) => void) {
  const cells: WorstCell[] = [];
  let identical = true;
  log('batch  mode                   plain/speculative time per block: median (q1-q3) over N pairs');
  for (const rows of [1, 16, 64, 256]) {
    worker.paid.clear();
    const perBlock = Math.max(4, Math.ceil(64 / rows));
    const ratios = new Map<string, number[]>(WORST_MODES.map((m) => [m, []]));
    // Cells near 1 after the first `pairs` (within 10 %: speculation off or nearly so, the
    // control) decide the worst case and sit within the noise of it: they get three times as
    // many more pairs, so their medians are about twice as precise. Cells far from 1 are settled.
    let modes: readonly string[] = WORST_MODES;
    for (let p = 0; p < pairs * 4; p++) {
      if (p === pairs) modes = WORST_MODES.filter((m) => Math.abs(quantile([...ratios.get(m)!].sort((x, y) => x - y), 0.5) - 1) < 0.1);
      const hs = Array.from({ length: perBlock }, (_, j) => {
        const off = ((p * perBlock + j) * 37 + rows) % trs.length;
        return Array.from({ length: rows }, (_, i): History => {
          const x = trs[(off + i) % trs.length]!;
          return { cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) };
        });
      });
      for (const [m, mode] of WORST_MODES.entries()) {
        if (!modes.includes(mode)) continue;
        // Alternate which side starts by pair and by mode, so neither side always runs first.
        const r = await pair(mode, hs, target, worker, (p + m) % 2 === 0);
        identical &&= r.identical;
        ratios.get(mode)!.push(r.plainMs / r.modeMs);
      }
    }
    for (const mode of WORST_MODES) {
      const r = ratios.get(mode)!.sort((x, y) => x - y);
      const c = { rows, mode, median: quantile(r, 0.5), q1: quantile(r, 0.25), q3: quantile(r, 0.75) };
      cells.push(c);
      log(`${String(rows).padStart(5)}  ${(mode === 'plain' ? 'plain (control)' : mode).padEnd(22)} ${c.median.toFixed(3)} (${c.q1.toFixed(3)}-${c.q3.toFixed(3)}) over ${r.length}`);
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
