// The draft worker: runs the drafters on its own thread, ahead of verification. It lives as
// long as its owner (a rollout stage) and serves one job at a time: for each row it drafts from
// the latest committed prefix; a draft that verification has since contradicted is redrafted.
// It waits (Atomics.waitAsync, so job messages still arrive) when every wanted draft is current.
import { parentPort, workerData } from 'node:worker_threads';
import { attachBoard, waitAsync, writeDraft, type BoardShape } from './board.js';
import type { DraftBatch, DrafterFactory } from './types.js';

interface Init {
  shape: BoardShape;
  buffers: SharedArrayBuffer[];
  factory: string;
  names: string[];
  options: Record<string, unknown>;
}

const init = workerData.init as Init;
const b = attachBoard(init.shape, init.buffers);
const { createDrafters } = (await import(init.factory)) as { createDrafters: DrafterFactory };
let drafters = await createDrafters(init.names, init.options);
let job = { rows: 0, end: 0 };
let stopping = false;
const batch: DraftBatch = {
  count: 0,
  rows: new Int32Array(b.rows),
  lens: new Int32Array(b.rows),
  ks: new Int32Array(b.rows),
  tokens: b.committed,
  window: b.window,
  context: b.context,
  out: new Int32Array(b.rows * b.ahead),
  stride: b.ahead,
  wanted: () => Atomics.load(b.control, 1) === 1 && !stopping,
};

parentPort!.on('message', async (m: { type: 'job'; rows: number; end: number } | { type: 'stop' }) => {
  if (m.type === 'stop') {
    stopping = true;
    return;
  }
  // Drafters keep per-job state (the n-gram table): a fresh set per job.
  for (const d of drafters) if (d.name === 'ngram') await d.close?.();
  drafters = await Promise.all(drafters.map(async (d) => (d.name === 'ngram' ? (await createDrafters(['ngram'], init.options))[0]! : d)));
  b.meta.fill(0);
  job = { rows: m.rows, end: m.end };
  parentPort!.postMessage({ type: 'ready' });
});
parentPort!.postMessage({ type: 'started' });

/** A draft needs redoing when it is missing, contradicted, or has fewer than half the wanted tokens left. */
function needs(row: number, d: number, c: number, want: number): boolean {
  const slot = row * b.drafters + d;
  const base = b.meta[slot * 3 + 1]!;
  const len = b.meta[slot * 3 + 2]!;
  if (b.meta[slot * 3] === 0 || base > c) return true;
  const left = base + len - c;
  if (left * 2 < Math.min(want, job.end - c)) return true;
  for (let i = 0; i < c - base; i++) if (b.drafts[slot * b.ahead + i] !== b.committed[row * b.window + base + i]) return true;
  return false;
}


/** Drafters in order of measured cost per token, cheapest first (unmeasured ones first of all). */
function byCost(): number[] {
  const per = (d: number) => (b.cost[d * 2 + 1]! > 0 ? b.cost[d * 2]! / b.cost[d * 2 + 1]! : 0);
  return drafters.map((_, d) => d).sort((x, y) => per(x) - per(y));
}

/** Collects the rows drafter d should draft for now; returns how many. */
function collect(d: number): number {
  batch.count = 0;
  for (let row = 0; row < job.rows; row++) {
    const want = Atomics.load(b.want, row * b.drafters + d);
    const c = Atomics.load(b.lens, row);
    if (want <= 0 || c >= job.end || !needs(row, d, c, want)) continue;
    const i = batch.count++;
    batch.rows[i] = row;
    batch.lens[i] = c;
    batch.ks[i] = Math.min(want, b.ahead, job.end - c);
  }
  return batch.count;
}

// Each pass serves the cheapest drafter that has work, so a slow drafter (the model) never
// holds back the drafts of a fast one; it runs when the cheap ones are current.
while (!stopping) {
  const gen = Atomics.load(b.control, 0);
  let worked = false;
  if (Atomics.load(b.control, 1) === 1) {
    for (const d of byCost()) {
      if (collect(d) === 0) continue;
      worked = true;
      const t0 = performance.now();
      await drafters[d]!.propose(batch);
      b.cost[d * 2] += performance.now() - t0;
      for (let i = 0; i < batch.count; i++) b.cost[d * 2 + 1] += batch.ks[i]!;
      for (let i = 0; i < batch.count; i++) if (batch.ks[i]! > 0) writeDraft(b, batch.rows[i]!, d, batch.lens[i]!, batch.out, i * b.ahead, batch.ks[i]!);
      Atomics.add(b.control, 2, 1);
      Atomics.notify(b.control, 2);
      break;
    }
  }
  if (!worked) await waitAsync(b.control, 0, gen, 20).value;
  else await new Promise((r) => setImmediate(r));
}
for (const d of drafters) await d.close?.();
parentPort!.close();
