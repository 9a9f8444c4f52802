// Retrying a drafter set that did not pay (runtime/speculate/probe.ts): the retry is a probe
// within plain decoding, a few rollouts carrying a short draft, settled by what the drafts gain.
// A drafter that is never accepted costs its first job two speculative rounds and each retry
// only PROBE_ROWS drafted rows a probe round, at every batch size; one that gains is handed
// to speculation proper. Every job commits exactly what plain decoding commits. The target is
// a deterministic causal chain (the token after t is (5t + 3) mod V), so the drafters' fates
// depend on tokens only, not on timing.
import test from 'ava';
import { decodeDecoupled } from '../runtime/speculate/decoupled.js';
import { decodePlain } from '../runtime/speculate/engine.js';
import { Payoff } from '../runtime/speculate/payoff.js';
import { PredraftSource } from '../runtime/speculate/predraft.js';
import { PROBE_ROWS } from '../runtime/speculate/probe.js';
import type { DraftBatch, Drafter, RolloutJob, Target } from '../runtime/speculate/types.js';

const V = 64;
const W = 48;
const PROMPT = 8;
const STEPS = 30;
const next = (t: number) => (5 * t + 3) % V;

class ChainTarget implements Target {
  readonly vocab = V;
  readonly window = W;
  readonly contextDim = 1;
  async run(tokens: BigInt64Array, _context: Float32Array, rows: number) {
    const argmax = new BigInt64Array(rows * W);
    for (let i = 0; i < rows * W; i++) argmax[i] = BigInt(next(Number(tokens[i])));
    return { argmax };
  }
}

/** Proposes what the chain does (always accepted), or always one token off it (never accepted). */
class ChainDrafter implements Drafter {
  constructor(
    readonly name: string,
    private readonly off: number,
  ) {}
  propose(b: DraftBatch): void {
    for (let i = 0; i < b.count; i++) {
      let t = b.tokens[b.rows[i]! * b.window + b.lens[i]! - 1]!;
      for (let s = 0; s < b.ks[i]!; s++) {
        t = next(t);
        b.out[i * b.stride + s] = (t + this.off) % V;
      }
    }
  }
}

function jobOf(rows: number): RolloutJob {
  const tokens = new Int32Array(rows * W);
  for (let r = 0; r < rows; r++) for (let p = 0; p < PROMPT; p++) tokens[r * W + p] = (r * 7 + p * 3) % V;
  return { rows, prompt: PROMPT, steps: STEPS, tokens, context: new Float32Array(rows), sampling: { temperature: 0, topK: 0 }, seed: 1 };
}

async function plainTokens(rows: number): Promise<Int32Array> {
  const j = jobOf(rows);
  await decodePlain(j, new ChainTarget());
  return j.tokens;
}

for (const rows of [1, 16, 64, 256]) {
  test(`batch ${rows}: a never-accepted drafter's retries draft for at most ${PROBE_ROWS} rollouts a probe round, two rounds a retry, each job a plain job's calls and tokens`, async (t) => {
    const target = new ChainTarget();
    const source = new PredraftSource('model', rows, W, 1, STEPS);
    const plain = await plainTokens(rows);
    const draftRows: number[] = [];
    const probes: number[] = [];
    for (let j = 0; j < 30; j++) {
      const job = jobOf(rows);
      const s = await decodeDecoupled(job, target, source, { use: [], inline: [new ChainDrafter('wrong', 1)] });
      t.true(Buffer.from(job.tokens.buffer).equals(Buffer.from(plain.buffer)), `job ${j} equals plain decoding`);
      t.is(s.calls, STEPS, `job ${j}: one call a token, as plain`);
      t.is(s.callRows, rows * STEPS, `job ${j}: no extra target rows`);
      draftRows.push(s.draftRows);
      probes.push(s.probeRounds);
    }
    // The first job (no history) speculates for two rounds with every rollout drafted; then the
    // back-off of Payoff (retries after 3, 6, 12 jobs), each retry a probe of two rounds.
    const tried = [0, 4, 11, 24];
    t.deepEqual(draftRows.map((n, j) => (n > 0 ? j : -1)).filter((j) => j >= 0), tried);
    t.is(draftRows[0], 2 * rows);
    for (const j of tried.slice(1)) t.is(draftRows[j], 2 * Math.min(rows, PROBE_ROWS), `retry at job ${j}`);
    // Retries never set up speculation proper: their drafted rounds are the probe's.
    t.deepEqual(probes, draftRows.map((_, j) => (tried.slice(1).includes(j) ? 2 : 0)));
    t.false(source.paid.get(`wrong greedy ${rows}`)!.paid);
  });
}

test('a retry whose probe drafts gain goes on as speculation proper from the probe\'s commits, and its output equals plain', async (t) => {
  const rows = 64;
  const target = new ChainTarget();
  const source = new PredraftSource('model', rows, W, 1, STEPS);
  const plain = await plainTokens(rows);
  // The set lost its last job and its wait is over: this job is a retry.
  source.paid.set(`right greedy ${rows}`, { paid: false, skipped: 3, wait: 3 });
  const job = jobOf(rows);
  const s = await decodeDecoupled(job, target, source, { use: [], inline: [new ChainDrafter('right', 0)] });
  t.true(Buffer.from(job.tokens.buffer).equals(Buffer.from(plain.buffer)));
  t.is(s.probeRounds, 1, 'one probe round that gains ends the probe');
  // Speculation proper is judged by time only after three rounds, each drafting for every rollout.
  t.true(s.draftRows >= PROBE_ROWS + 3 * rows, `${s.draftRows} drafted rows`);
  t.true(s.calls < STEPS, `${s.calls} calls`);
});

test('a retry whose drafter has nothing to propose (it shortens every draft to none) carries no draft rows and settles as not paying', async (t) => {
  const rows = 64;
  const target = new ChainTarget();
  const source = new PredraftSource('model', rows, W, 1, STEPS);
  const plain = await plainTokens(rows);
  source.paid.set(`none greedy ${rows}`, { paid: false, skipped: 3, wait: 3 });
  const none: Drafter = {
    name: 'none',
    propose(b) {
      b.ks.fill(0, 0, b.count);
    },
  };
  const job = jobOf(rows);
  const s = await decodeDecoupled(job, target, source, { use: [], inline: [none] });
  t.true(Buffer.from(job.tokens.buffer).equals(Buffer.from(plain.buffer)));
  t.is(s.probeRounds, 2);
  t.is(s.draftRows, 0);
  t.is(s.calls, STEPS);
  t.deepEqual(source.paid.get(`none greedy ${rows}`), { paid: false, skipped: 0, wait: 6 });
});

test('payoff: a retry probes two rounds; two that gain nothing settle it (wait doubled), one that gains ends the probe', (t) => {
  t.false(new Payoff().retry, 'no history: speculation proper');
  t.false(new Payoff({ paid: false, skipped: 0, wait: 3 }).retry, 'waiting: plain, not a retry');
  t.false(new Payoff({ paid: false, skipped: 3, wait: 3 }, false).retry, 'untimed (sampled): never switched off, never retried');
  const lost = new Payoff({ paid: false, skipped: 6, wait: 6 });
  t.true(lost.retry && lost.probing);
  lost.probed(16, 16);
  t.true(lost.probing, 'one futile probe round is not enough (an n-gram drafter has nothing to match in the first)');
  lost.probed(16, 16);
  t.false(lost.probing);
  t.true(lost.off);
  t.deepEqual(lost.record(), { paid: false, skipped: 0, wait: 12 });
  const won = new Payoff({ paid: false, skipped: 6, wait: 6 });
  won.probed(16, 16);
  won.probed(40, 16);
  t.false(won.probing);
  t.false(won.off, 'speculation proper takes the job');
  for (let i = 0; i < 3; i++) won.round(30, 10, 1, 1, 10);
  t.true(won.record().paid);
});
