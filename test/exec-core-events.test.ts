// What the dispatch core tells the trace, on virtual time (the simulator's driver, a cost
// model): source captures (due -> ready), transfers (a message in transit between XPU
// memories), drops at inputs with their reason, and the lane every wait and run took.
import test from 'ava';
import { CostedDriver } from '../runtime/exec/core/costed.js';
import { Dispatcher } from '../runtime/exec/core/dispatcher.js';
import type { DropReason, Hooks, Topology } from '../runtime/exec/core/types.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { modelCosts, modelTopology } from '../runtime/schedule/simulate.js';
import { model, on } from '../runtime/schedule/synthetic.js';
import type { CostModel } from '../runtime/schedule/model.js';

interface Seen {
  capture: Array<[number, number, number, number]>;
  transfer: Array<[number, number, number, number]>;
  drop: Array<[number, number, DropReason]>;
  runs: Array<{ stage: number; lane: number; start: number; end: number }>;
  waitLanes: number[];
  jobLanes: number[];
  e2e: Array<[number, number]>;
}

function runCore(m: CostModel, option: number[], opts: { durationMs?: number; frames?: number; fast?: boolean }, edit?: (t: Topology) => void) {
  const a = { option, priority: option.map(() => 0) };
  const topo = modelTopology(m, a);
  edit?.(topo);
  const vm = new VirtualMachine({ cores: m.cores });
  const seen: Seen = { capture: [], transfer: [], drop: [], runs: [], waitLanes: [], jobLanes: [], e2e: [] };
  const hooks: Hooks = {
    capture: (stage, seq, due, ready) => void seen.capture.push([stage, seq, due, ready]),
    transfer: (stage, _input, seq, from, to) => void seen.transfer.push([stage, seq, from, to]),
    drop: (stage, _input, seq, _t, why) => void seen.drop.push([stage, seq, why]),
    run: (stage, _x, _seq, start, end, lane) => void seen.runs.push({ stage, lane, start, end }),
    wait: (_s, _x, _seq, _f, _t, lane) => void seen.waitLanes.push(lane),
    dispatch: (job) => void seen.jobLanes.push(job.lane),
    endToEnd: (stage, seq) => void seen.e2e.push([stage, seq]),
  };
  const core = new Dispatcher(topo, vm, new CostedDriver(vm, topo, modelCosts(m, a)), hooks, { fast: !!opts.fast, frames: opts.frames ?? Infinity });
  void core.run(opts.durationMs);
  vm.runToEnd();
  return { seen, core };
}

test('captures: every source frame from when it was due to when its stage was ready', (t) => {
  // The source shares the event loop with a 15 ms stage: a tick due meanwhile waits for it.
  const m = model(
    [{ id: 'main', eventLoop: true }],
    [
      { name: 'src', cost: { main: 0.5 }, periodMs: 10 },
      { name: 'busy', cost: { main: 15 }, from: ['src'] },
    ],
  );
  const { seen, core } = runCore(m, [0, 0], { durationMs: 95 });
  const src = seen.capture.filter((c) => c[0] === 0);
  t.is(src.length, core.stages[0]!.runs, 'one capture per source run');
  t.deepEqual(src.slice(0, 2).map((c) => c.slice(1, 3)), [[0, 0], [1, 10]], 'frame k due at k x period');
  for (const [, , due, ready] of src) t.true(ready >= due);
  t.true(src.some(([, , due, ready]) => ready > due), 'a tick that fired while the loop was busy is late, and says so');
});

test('transfers: a message between XPU memories is in transit from its producer end to its delivery', (t) => {
  const m = model(
    [{ id: 'cpu' }, { id: 'gpu', transferMs: 2 }],
    [
      { name: 'src', cost: { cpu: 1 }, periodMs: 50 },
      { name: 'infer', cost: { gpu: 3 }, from: ['src'] },
      { name: 'sink', cost: { cpu: 1 }, from: ['infer'] },
    ],
  );
  const { seen } = runCore(m, [0, on(m, 'infer', 'gpu'), 0], { frames: 3 });
  // src ends at 1, arrives at the gpu at 3 (2 ms out of host memory); infer ends at 6, back at 8.
  t.deepEqual(seen.transfer.filter((x) => x[1] === 0), [
    [1, 0, 1, 3],
    [2, 0, 6, 8],
  ]);
  t.is(seen.transfer.length, 6);
});

test('drops: keep-last overflow, a replaced cache, older messages at a latest join, frames that cannot meet', (t) => {
  // A 20 ms stage behind a 5 ms source: its depth-1 input overflows.
  const m = model(
    [{ id: 'cpu' }, { id: 'acc' }],
    [
      { name: 'src', cost: { cpu: 0.1 }, periodMs: 5 },
      { name: 'slow', cost: { acc: 20 }, from: ['src'] },
      { name: 'sink', cost: { cpu: 0.1 }, from: ['slow'] },
    ],
  );
  const depth = runCore(m, [0, 0, 0], { durationMs: 100 });
  t.true(depth.seen.drop.length > 0);
  t.true(depth.seen.drop.every(([stage, , why]) => stage === 1 && why === 'depth'));
  t.is(depth.seen.drop.length, depth.core.stages[1]!.inputs[0]!.drops, 'each drop counted once, and seen once');

  // The same input as a cache cleared when taken, read by a 20 ms timer: replaced messages.
  const cached = runCore(m, [0, 0, 0], { durationMs: 100 }, (topo) => {
    const slow = topo.stages[1]!;
    slow.periodMs = 20;
    slow.inputs[0] = { ...slow.inputs[0]!, latched: true, optional: true, clear: true };
  });
  t.true(cached.seen.drop.length > 0);
  t.true(cached.seen.drop.every(([stage, , why]) => stage === 1 && why === 'replaced'));

  // Two sources of one rate, one through the slow stage, at a join: by frame, then latest.
  const j = model(
    [{ id: 'cpu' }, { id: 'acc' }, { id: 'j' }],
    [
      { name: 'a', cost: { cpu: 0.1 }, periodMs: 5 },
      { name: 'b', cost: { cpu: 0.1 }, periodMs: 5 },
      { name: 'slow', cost: { acc: 12 }, from: ['b'] },
      { name: 'join', cost: { j: 0.5 }, from: ['a', 'slow'], depth: 3 },
    ],
  );
  const frame = runCore(j, [0, 0, 0, 0], { durationMs: 100 });
  t.true(frame.seen.drop.some(([stage, , why]) => stage === 3 && why === 'sync'));
  const latest = runCore(j, [0, 0, 0, 0], { durationMs: 100 }, (topo) => void (topo.stages[3]!.join = 'latest'));
  const atJoin = latest.seen.drop.filter(([stage]) => stage === 3);
  t.true(atJoin.some(([, , why]) => why === 'latest'));
  t.false(atJoin.some(([, , why]) => why === 'sync'), 'a latest join never aligns');
  const counted = latest.core.stages[3]!.inputs.reduce((n, i) => n + i.drops, 0);
  t.is(atJoin.length, counted);
});

test('lanes: waits and runs carry the lane their job took; runs on one lane never overlap', (t) => {
  const m = model(
    [{ id: 'cpu' }, { id: 'pool', lanes: 2 }],
    [
      { name: 'src', cost: { cpu: 0.1 }, periodMs: 10 },
      { name: 'a', cost: { pool: 15 }, from: ['src'] },
      { name: 'b', cost: { pool: 15 }, from: ['src'] },
      { name: 'c', cost: { pool: 15 }, from: ['src'] },
    ],
  );
  const { seen } = runCore(m, [0, 0, 0, 0], { durationMs: 100 });
  t.deepEqual(seen.waitLanes, seen.jobLanes, 'the wait of each job names its lane');
  const pool = seen.runs.filter((r) => r.stage > 0);
  t.deepEqual([...new Set(pool.map((r) => r.lane))].sort(), [0, 1], 'both lanes used');
  for (const lane of [0, 1]) {
    const mine = pool.filter((r) => r.lane === lane).sort((x, y) => x.start - y.start);
    for (let k = 1; k < mine.length; k++) t.true(mine[k]!.start >= mine[k - 1]!.end - 1e-9, `lane ${lane}: one run at a time`);
  }
});

test('--frames (fast mode) keeps the sources in step: frame k of a source waits until every source published k - 1 and it was taken', (t) => {
  // The camera branch is one slow stage, the lidar branch three fast ones: each holding a frame,
  // the lidar source would otherwise run frames ahead of the camera into the join.
  const m = model(
    [{ id: 'cpu' }, { id: 'acc' }, { id: 'aux' }],
    [
      { name: 'camera', cost: { cpu: 0.2 } },
      { name: 'lidar', cost: { cpu: 0.2 } },
      { name: 'preprocess', cost: { acc: 10 }, from: ['camera'] },
      { name: 'cloud', cost: { aux: 1 }, from: ['lidar'] },
      { name: 'ground', cost: { aux: 1 }, from: ['cloud'] },
      { name: 'cluster', cost: { aux: 1 }, from: ['ground'] },
      { name: 'fusion', cost: { cpu: 0.5 }, from: ['preprocess', 'cluster'] },
    ],
  );
  const a = { option: [0, 0, 0, 0, 0, 0, 0], priority: [0, 0, 0, 0, 0, 0, 0] };
  const topo = modelTopology(m, a);
  const vm = new VirtualMachine();
  const starts: Array<{ stage: number; seq: number; t: number }> = [];
  const e2e: number[] = [];
  const core = new Dispatcher(topo, vm, new CostedDriver(vm, topo, modelCosts(m, a)), {
    dispatch: (job) => void starts.push({ stage: job.stage, seq: job.frame.seq, t: vm.now() }),
    endToEnd: (_s, seq) => void e2e.push(seq),
  }, { fast: true, frames: 12 });
  void core.run();
  vm.runToEnd();
  t.deepEqual(e2e, [...Array(12).keys()], 'every frame reaches the sink, in order (lossless)');
  const at = (stage: number, seq: number) => starts.find((s) => s.stage === stage && s.seq === seq)?.t ?? Infinity;
  for (const src of [0, 1]) {
    const other = 1 - src;
    const first = other === 0 ? 2 : 3; // the stage that takes the other source's frames
    for (let k = 1; k < 12; k++) {
      t.true(at(other, k - 1) <= at(src, k), `source ${src} frame ${k} after source ${other} frame ${k - 1}`);
      t.true(at(first, k - 1) <= at(src, k), `source ${src} frame ${k} after the pipeline took source ${other} frame ${k - 1}`);
    }
  }
  // In step: the lidar never leads the camera by more than one frame at the sources.
  for (const s of starts.filter((x) => x.stage === 1)) {
    const camera = starts.filter((x) => x.stage === 0 && x.t <= s.t).length;
    t.true(s.seq - (camera - 1) <= 1, `lidar frame ${s.seq} at ${s.t} ms with camera at ${camera - 1}`);
  }
  t.is(core.stages.reduce((n, st) => n + st.inputs.reduce((d, i) => d + i.drops, 0), 0), 0, 'nothing dropped');
});
