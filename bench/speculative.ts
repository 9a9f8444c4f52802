// Speculative trajectory rollout: plain decoding; naive speculation (coupled: draft k = 4, then
// verify, one drafter); speculation per drafter (the model drafting ahead on a worker thread,
// the cheap drafters inline) and the dynamic best-of-N over them, at batch 1, 16, 64 and 256
// agents, T = 30. Table: tokens/s, target calls and acceptance per drafter over rollout progress.
// Last line: ratios measured side by side in this run (greedy_identical over every run).
//   npm run bench -- speculative [--reps N]   (tokens/s: median over N repetitions, 3N at batch <= 16)
import { decodeCoupled, decodePlain } from '../runtime/speculate/engine.js';
import { DraftWorker, decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { PHASES, type RunStats } from '../runtime/speculate/stats.js';
import { createDrafters, DRAFTERS } from '../xnodes/planning/drafters.js';
import { DisplacementMeter, jobOf, rolloutPositions, type History } from '../xnodes/planning/jobs.js';
import { openTarget } from '../xnodes/planning/model.js';
import { CONTEXT, H, T, WINDOW } from '../xnodes/planning/motion.js';
import { HELDOUT_SEEDS, trajectories } from '../models/rollout.gen.mjs';

export default async function main(args: string[]): Promise<void> {
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 5;
  const trs = await trajectories(HELDOUT_SEEDS, 0.5);
  const target = await openTarget();
  const FACTORY = new URL('../xnodes/planning/drafters.ts', import.meta.url).href;
  // The model drafts on the worker thread; the cheap drafters run inline on the verifier's.
  const worker = new DraftWorker(['model'], 256, FACTORY, {}, T, WINDOW, CONTEXT);
  const singles = ['model', 'kinematic', 'ngram'];
  let identical = true;
  let worst = Infinity;
  let worstWhat = '';
  let naiveWorst = Infinity;
  const ratios: Record<number, { plain: number; naive: number; dynamic: number; gap: number }> = {};

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
    }
    // Median over repetitions (one stall of a loaded machine must not decide a figure).
    const tps = (k: string) => {
      const v = runs.get(k)!.map((x) => (x.tokens * 1000) / x.ms).sort((a, b) => a - b);
      return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    };
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
      // Worst case of our speculation (the naive coupled baseline has no off switch: shown, not counted).
      const r = tps(k) / tps('plain');
      if (k.startsWith('coupled:')) naiveWorst = Math.min(naiveWorst, r);
      else if (k !== 'plain' && r < worst) {
        worst = r;
        worstWhat = `${k} at batch ${rows}`;
      }
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
    ratios[rows] = { plain: tps('plain'), naive: tps('coupled:model'), dynamic: tps('dynamic'), gap: 1 - dyn / oracle };
    console.log(`${String(rows).padStart(5)}  dynamic/plain ${(tps('dynamic') / tps('plain')).toFixed(2)}  dynamic/naive ${(tps('dynamic') / tps('coupled:model')).toFixed(2)}  oracle gap ${ratios[rows]!.gap.toFixed(3)}`);
  }
  await worker.close();
  await target.close();
  console.log(`worst case: ${worstWhat} ${worst.toFixed(3)} (speculative or dynamic tokens/s over plain, every drafter and batch); naive coupled speculation's worst: ${naiveWorst.toFixed(3)}`);
  const r64 = ratios[64]!;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  console.log(JSON.stringify({ bench: 'speculative', speedup_vs_plain: round(r64.dynamic / r64.plain), speedup_vs_naive: round(r64.dynamic / r64.naive), oracle_gap: round(r64.gap), worst_case_ratio: round(worst), greedy_identical: identical }));
}
