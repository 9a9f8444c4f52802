// Speculative trajectory rollout: plain decoding; naive speculation (coupled: draft k = 4, then
// verify, one drafter); speculation per drafter (the model drafting ahead on a worker thread,
// the cheap drafters inline) and the dynamic best-of-N over them, at batch 1, 16, 64 and 256
// agents, T = 30. Table: tokens/s, target calls and acceptance per drafter over rollout progress.
// The draft stage (planning/draft: whole rollouts drafted ahead on another XPU), greedy and
// sampled (temperature 0.7, top-k 20, the stage's defaults): verification with the draft
// model's distributions against the same drafts as one-hot and against plain sampling;
// tokens/s of the verifier alone (drafting runs on another XPU) and with drafting in series.
// In the pipeline (bench/speculative-pipeline.ts): the perception launch with rollout:=true at
// its sensors' rates, speculation on and off, end-to-end p50 at the rollout sink.
// Worst case (bench/speculative-worst.ts): blocks of jobs plain and speculative, interleaved job by job,
// every batch size and mode, the median over pairs, with plain against plain as the control.
// Last line: ratios measured side by side in this run (greedy_identical over every run).
//   npm run bench -- speculative [--reps N] [--pairs N] [--pipeline ROUNDS SECONDS]
//   (tokens/s: median over N repetitions, 3N at batch <= 16; worst case: N = 9 pairs of blocks per
//   cell, 4N for the cells within 10 % of 1 after N; pipeline: 3 rounds of 8 s per mode (median), 0 rounds: skipped)
import { decodeCoupled, decodePlain } from '../runtime/speculate/engine.js';
import { DraftWorker, decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { PHASES, type RunStats } from '../runtime/speculate/stats.js';
import { createDrafters, DRAFTERS } from '../xnodes/planning/drafters.js';
import { DisplacementMeter, GREEDY, jobOf, rolloutPositions, type History } from '../xnodes/planning/jobs.js';
import { ensureRolloutModels, OrtWindowModel, openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, DRAFT_WINDOW, H, T, WINDOW } from '../xnodes/planning/motion.js';
import { PredraftSource } from '../runtime/speculate/predraft.js';
import { WholeDrafter } from '../xnodes/planning/predraft.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';
import { pipelineRatio } from './speculative-pipeline.js';
import { worstCase } from './speculative-worst.js';

/** The middle of `v` (sorted in place), or the mean of its two middles. */
function median(v: number[]): number {
  v.sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

const rate = (x: RunStats) => (x.tokens * 1000) / x.ms;

export default async function main(args: string[]): Promise<void> {
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 5;
  const pairs = args.includes('--pairs') ? Number(args[args.indexOf('--pairs') + 1]) : 9;
  const at = args.indexOf('--pipeline');
  const pipeRounds = at >= 0 ? Number(args[at + 1]) : 3;
  const pipeSeconds = at >= 0 && args[at + 2] !== undefined ? Number(args[at + 2]) : 8;
  const trs = await trajectories(HELDOUT_SEEDS, 0.5);
  const target = await openTarget();
  const FACTORY = new URL('../xnodes/planning/drafters.ts', import.meta.url).href;
  // The model drafts on the worker thread; the cheap drafters run inline on the verifier's.
  const worker = new DraftWorker(['model'], 256, FACTORY, {}, T, WINDOW, CONTEXT);
  const singles = ['model', 'kinematic', 'ngram'];
  let identical = true;
  const ratios: Record<number, { plain: number; naive: number; dynamic: number; gap: number }> = {};
  const drafter = new WholeDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW));
  const source = new PredraftSource('model', 256, WINDOW, CONTEXT, T);
  const allRows = Int32Array.from({ length: 256 }, (_, i) => i);
  const SAMPLED = { temperature: 0.7, topK: 20 };
  const sampledAt: Record<number, { plain: number; spec: number; serial: number; acc: number; oneHotAcc: number; rows: number }> = {};

  // Quality of the greedy rollouts on held-out scenes (ground truth of the simulator).
  const q = new DisplacementMeter();
  {
    const hs = trs.map((x) => ({ cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) }));
    const j = jobOf(hs);
    await decodePlain(j.job, target);
    const truth = new Float64Array(2 * T);
    trs.forEach((x, r) => {
      for (let s = 0; s < T; s++) {
        truth[2 * s] = x.xs[H + 1 + s]!;
        truth[2 * s + 1] = x.ys[H + 1 + s]!;
      }
      q.add(rolloutPositions(j.job, j.refs, j.origins, r), truth, T, x.xs[H]!, x.ys[H]!, x.xs[H]! - x.xs[H - 1]!, x.ys[H]! - x.ys[H - 1]!);
    });
  }

  console.log(`held-out scenes ${HELDOUT_SEEDS.join(',')}: ${JSON.stringify(q.result())}`);
  console.log('batch  mode                 tokens/s  calls  acceptance per third of the rollout (drafter: 1st/2nd/3rd)');
  for (const rows of [1, 16, 64, 256]) {
    const runs = new Map<string, RunStats[]>();
    const add = (k: string, s: RunStats) => runs.set(k, [...(runs.get(k) ?? []), s]);
    // The draft stage's runs (drafting time apart: it is spent on another XPU).
    const staged = new Map<string, Array<{ s: RunStats; draftMs: number }>>();
    const stage = async (k: string, hs: History[], sampling: typeof SAMPLED, seed: number, oneHot = false) => {
      const j = jobOf(hs, 1, sampling, seed);
      const t0 = performance.now();
      const d = await drafter.draft(j.job, seed + 7);
      const draftMs = performance.now() - t0;
      if (oneHot) delete d.q;
      source.load(d, allRows.subarray(0, rows));
      const s = await decodeDecoupled(j.job, target, source, { inline: await createDrafters(['kinematic', 'ngram'], { rows }) });
      staged.set(k, [...(staged.get(k) ?? []), { s, draftMs }]);
      return j;
    };
    // Small batches take milliseconds: more repetitions there.
    const n = rows <= 16 ? 3 * reps : reps;
    for (let rep = 0; rep < n; rep++) {
      const off = (rep * 37 + rows) % trs.length;
      const hs: History[] = Array.from({ length: rows }, (_, i) => {
        const x = trs[(off + i) % trs.length]!;
        return { cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) };
      });
      const plain = jobOf(hs);
      add('plain', await decodePlain(plain.job, target));
      const same = (j: ReturnType<typeof jobOf>) => Buffer.from(j.job.tokens.buffer).equals(Buffer.from(plain.job.tokens.buffer));
      for (const name of DRAFTERS) {
        const [d] = await createDrafters([name], { rows });
        const j = jobOf(hs);
        add(`coupled:${name}`, await decodeCoupled(j.job, target, d!, 4));
        await d!.close?.();
        identical &&= same(j);
        const k = jobOf(hs);
        const opts = name === 'model' ? { use: ['model'] } : { use: [], inline: await createDrafters([name], { rows }) };
        add(`speculative:${name}`, await decodeDecoupled(k.job, target, worker, opts));
        identical &&= same(k);
      }
      const j = jobOf(hs);
      add('dynamic', await decodeDecoupled(j.job, target, worker, { use: ['model'], inline: await createDrafters(['kinematic', 'ngram'], { rows }) }));
      identical &&= same(j);
      identical &&= same(await stage('draft-stage', hs, GREEDY, 0));
      const ps = jobOf(hs, 1, SAMPLED, rep + 1);
      const s = await decodePlain(ps.job, target);
      staged.set('sampled plain', [...(staged.get('sampled plain') ?? []), { s, draftMs: 0 }]);
      await stage('sampled draft-stage', hs, SAMPLED, rep + 1);
      await stage('sampled one-hot', hs, SAMPLED, rep + 1, true);
    }
    // Median over repetitions (one stall of a loaded machine must not decide a figure).
    const tps = (k: string) => median(runs.get(k)!.map(rate));
    for (const [k, s] of runs) {
      const acc = Object.entries(s[0]!.drafters)
        .filter(([, d]) => d.proposed.some((p) => p > 0))
        .map(([n]) => {
          const per = Array.from({ length: PHASES }, (_, ph) => {
            let a = 0;
            let p = 0;
            for (const x of s) {
              a += x.drafters[n]!.accepted[ph]!;
              p += x.drafters[n]!.proposed[ph]!;
            }
            return p > 0 ? (a / p).toFixed(2) : '-';
          });
          return `${n}: ${per.join('/')}`;
        });
      const calls = s.reduce((a, x) => a + x.calls, 0) / s.length;
      console.log(`${String(rows).padStart(5)}  ${k.padEnd(20)} ${tps(k).toFixed(0).padStart(9)}  ${calls.toFixed(1).padStart(5)}  ${acc.join('  ')}`);
    }
    // Oracle: per rollout, the best single drafter in hindsight (fewest target calls).
    let dyn = 0;
    let oracle = 0;
    for (let rep = 0; rep < n; rep++) {
      const d = runs.get('dynamic')![rep]!;
      for (let r = 0; r < rows; r++) {
        dyn += T / d.rowCalls[r]!;
        oracle += Math.max(...singles.map((n) => T / runs.get(`speculative:${n}`)![rep]!.rowCalls[r]!));
      }
    }
    const stps = (k: string, serial: boolean) => median(staged.get(k)!.map((x) => (x.s.tokens * 1000) / (x.s.ms + (serial ? x.draftMs : 0))));
    const modelAcc = (k: string) => {
      let a = 0;
      let p = 0;
      for (const x of staged.get(k)!) for (let ph = 0; ph < PHASES; ph++) {
        a += x.s.drafters.model!.accepted[ph]!;
        p += x.s.drafters.model!.proposed[ph]!;
      }
      return p > 0 ? a / p : 0;
    };
    for (const k of staged.keys()) {
      const calls = staged.get(k)!.reduce((a, x) => a + x.s.calls, 0) / staged.get(k)!.length;
      const acc = k.endsWith('plain') ? '' : `model: ${modelAcc(k).toFixed(3)}`;
      console.log(`${String(rows).padStart(5)}  ${k.padEnd(20)} ${stps(k, false).toFixed(0).padStart(9)}  ${calls.toFixed(1).padStart(5)}  ${acc}${k.endsWith('plain') ? '' : `  (with drafting in series: ${stps(k, true).toFixed(0)} tokens/s)`}`);
    }
    // Target rows computed (a timing-free figure: calls times the rows in them).
    const callRows = (k: string) => median(staged.get(k)!.map((x) => x.s.callRows));
    sampledAt[rows] = { plain: stps('sampled plain', false), spec: stps('sampled draft-stage', false), serial: stps('sampled draft-stage', true), acc: modelAcc('sampled draft-stage'), oneHotAcc: modelAcc('sampled one-hot'), rows: callRows('sampled plain') / callRows('sampled draft-stage') };
    ratios[rows] = { plain: tps('plain'), naive: tps('coupled:model'), dynamic: tps('dynamic'), gap: 1 - dyn / oracle };
    console.log(`${String(rows).padStart(5)}  dynamic/plain ${(tps('dynamic') / tps('plain')).toFixed(2)}  dynamic/naive ${(tps('dynamic') / tps('coupled:model')).toFixed(2)}  oracle gap ${ratios[rows]!.gap.toFixed(3)}`);
  }
  // The worst case of our speculation (the naive coupled baseline has no off switch: shown in
  // the table, not counted).
  const w = await worstCase(trs, target, worker, pairs, (l) => console.log(l));
  identical &&= w.identical;
  await worker.close();
  await drafter.model.close();
  await target.close();
  console.log(
    `worst case: ${w.worst.mode} at batch ${w.worst.rows} ${w.worst.median.toFixed(3)} (q1-q3 ${w.worst.q1.toFixed(3)}-${w.worst.q3.toFixed(3)}); ` +
      `plain against plain: median off 1 by ${w.controlBias.toFixed(3)} at most, pairs' q1-q3 up to ${w.controlSpread.toFixed(3)} wide`,
  );
  const r64 = ratios[64]!;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const s64 = sampledAt[64]!;
  console.log(`sampled at batch 64 (temperature ${SAMPLED.temperature}, top-k ${SAMPLED.topK}): draft model acceptance ${s64.acc.toFixed(3)} with its distributions, ${s64.oneHotAcc.toFixed(3)} as one-hot; verifier ${(s64.spec / s64.plain).toFixed(2)}x plain sampling, ${(s64.serial / s64.plain).toFixed(2)}x with drafting in series; plain sampling computes ${s64.rows.toFixed(2)}x the target rows`);
  const pipe = pipeRounds > 0 ? await pipelineRatio(pipeRounds, pipeSeconds) : undefined;
  if (pipe) console.log(`in the pipeline: rollout e2e p50 speculation on / off ${pipe.ratio.toFixed(3)} (all sinks ${pipe.allRatio.toFixed(3)})`);
  console.log(
    JSON.stringify({
      bench: 'speculative',
      speedup_vs_plain: round(r64.dynamic / r64.plain),
      speedup_vs_naive: round(r64.dynamic / r64.naive),
      oracle_gap: round(r64.gap),
      worst_case_ratio: round(w.worst.median),
      plain_repeat_spread: round(w.controlBias),
      plain_pair_iqr: round(w.controlSpread),
      greedy_identical: identical,
      sampled_acceptance: round(s64.acc),
      sampled_acceptance_onehot: round(s64.oneHotAcc),
      sampled_speedup_vs_plain: round(s64.spec / s64.plain),
      sampled_speedup_serial: round(s64.serial / s64.plain),
      sampled_target_rows_ratio: round(s64.rows),
      ...(pipe ? { pipeline_e2e_ratio_spec_over_plain: round(pipe.ratio), pipeline_e2e_ratio_all_sinks: round(pipe.allRatio) } : {}),
    }),
  );
}
