// Path accounting on virtual time: every source->sink path is found from the graph alone,
// and each frame's end-to-end time splits per hop into run, XPU wait, input wait and
// transfer that sum to it exactly (times are multiples of 1/8 ms: float sums are exact).
import test from 'ava';
import { analysePaths, findPaths, frameBreakdowns, PARTS, type PathGraph, type Parts } from '../runtime/trace/paths.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';
import { mulberry32 } from '../runtime/util/random.js';
import { runLaunch } from '../runtime/cli/launch.js';

// camera(0) -> pre(1) -> fuse(3) -> sink(4);  lidar(2) -> fuse(3)
const FORK_JOIN: PathGraph = {
  stages: ['camera', 'pre', 'lidar', 'fuse', 'sink'],
  edges: [
    { from: 0, to: 1 },
    { from: 1, to: 3 },
    { from: 2, to: 3 },
    { from: 3, to: 4 },
  ],
  sources: [0, 2],
  sinks: [4],
};

const total = (hops: Parts[]) => hops.reduce((n, h) => n + PARTS.reduce((m, p) => m + h[p], 0), 0);

/** A tracer on a clock the test sets. */
function virtualTracer(stages: number) {
  const clock = { now: 0 };
  const tracer = new Tracer(stages, { now: () => clock.now });
  return { tracer, clock };
}

test('every source->sink path is found from the graph (no architecture file)', (t) => {
  t.deepEqual(findPaths(FORK_JOIN).paths, [
    [0, 1, 3, 4],
    [2, 3, 4],
  ]);
  // A diamond: two paths from one source.
  const diamond: PathGraph = { stages: ['s', 'a', 'b', 'j'], edges: [{ from: 0, to: 1 }, { from: 0, to: 2 }, { from: 1, to: 3 }, { from: 2, to: 3 }], sources: [0], sinks: [3] };
  t.deepEqual(findPaths(diamond).paths, [[0, 1, 3], [0, 2, 3]]);
});

test('one frame through a join: each hop split into run, XPU wait, input wait and transfer as it happened', (t) => {
  const { tracer, clock } = virtualTracer(5);
  const run = (stage: number, xpu: number, ready: number, start: number, end: number) => {
    tracer.record(stage, xpu, EventKind.Wait, 0, ready, start);
    tracer.record(stage, xpu, EventKind.Run, 0, start, end);
  };
  run(2, 0, 0.5, 0.5, 1); // lidar runs first on the shared XPU
  run(0, 0, 0.5, 1, 3); // camera: captured at 0, ready 0.5 (a late timer), waits for the XPU until 1
  run(1, 1, 3.25, 3.25, 6); // pre: its input arrived 0.25 ms after the camera ended
  run(3, 0, 6.5, 7, 8); // fuse: ready 0.5 ms after pre ended, XPU busy until 7
  run(4, 0, 8.125, 8.125, 9);
  clock.now = 9.25; // the sink published its result
  tracer.endToEnd(4, 9.25);
  const { frames } = frameBreakdowns(FORK_JOIN, findPaths(FORK_JOIN).paths, tracer.events(), tracer.completions());
  const cam = frames.find((f) => f.path === 0)!;
  const lid = frames.find((f) => f.path === 1)!;
  t.true(cam.origin);
  t.is(cam.e2e, 9.25);
  t.deepEqual(cam.hops, [
    { run: 2, xpu_wait: 0.5, input_wait: 0.5, transfer: 0 },
    { run: 2.75, xpu_wait: 0, input_wait: 0, transfer: 0.25 },
    { run: 1, xpu_wait: 0.5, input_wait: 0, transfer: 0.5 },
    { run: 0.875, xpu_wait: 0, input_wait: 0, transfer: 0.125 + 0.25 },
  ]);
  t.is(total(cam.hops), cam.e2e);
  // The lidar's frame waited at the join for the camera branch (input wait), from its own
  // capture (no capture event: its ready time).
  t.false(lid.origin);
  t.is(lid.e2e, 8.75);
  t.deepEqual(lid.hops[1], { run: 1, xpu_wait: 0.5, input_wait: 5, transfer: 0.5 });
  t.is(total(lid.hops), lid.e2e);

  // With the core's capture event for the lidar frame, its path starts at the capture.
  tracer.record(2, 0, EventKind.Capture, 0, 0, 0.5);
  const again = frameBreakdowns(FORK_JOIN, findPaths(FORK_JOIN).paths, tracer.events(), tracer.completions()).frames.find((f) => f.path === 1)!;
  t.is(again.e2e, 9.25);
  t.is(again.hops[0]!.input_wait, 0.5);
  t.is(total(again.hops), 9.25);
});

/** A virtual-time run of the fork-join graph: list scheduling on two shared XPUs, random durations in 1/8 ms. */
function simulate(frames: number, seed: number, capture: boolean) {
  const rnd = mulberry32(seed);
  const q = (max: number) => Math.floor(rnd() * max * 8) / 8; // 0..max in 1/8 ms steps
  const { tracer, clock } = virtualTracer(5);
  const xpuOf = [0, 1, 0, 1, 0];
  const xpuFree = [0, 0];
  const stageFree = [0, 0, 0, 0, 0];
  const latencies: number[] = [];
  const completions: Array<{ end: number; latency: number }> = [];
  for (let n = 0; n < frames; n++) {
    const tick = n * 10;
    const late = q(1);
    const end: number[] = [];
    const runStage = (s: number, ready: number, dur: number) => {
      const r = Math.max(ready, stageFree[s]!);
      const start = Math.max(r, xpuFree[xpuOf[s]!]!);
      const e = start + dur;
      tracer.record(s, xpuOf[s]!, EventKind.Wait, n, r, start);
      tracer.record(s, xpuOf[s]!, EventKind.Run, n, start, e);
      xpuFree[xpuOf[s]!] = e;
      stageFree[s] = e;
      end[s] = e;
    };
    if (capture) {
      tracer.record(0, 0, EventKind.Capture, n, tick, tick + late);
      tracer.record(2, 0, EventKind.Capture, n, tick, tick + late);
    }
    runStage(0, tick + late, q(4) + 0.125);
    runStage(2, tick + late, q(3) + 0.125);
    runStage(1, end[0]! + q(0.5), q(6) + 0.125);
    runStage(3, Math.max(end[1]! + q(0.5), end[2]! + q(0.5)), q(6) + 0.125);
    runStage(4, end[3]! + q(0.5), q(2) + 0.125);
    const done = end[4]! + q(0.5);
    clock.now = done;
    tracer.endToEnd(4, done - tick);
    latencies.push(done - tick);
    completions.push({ end: done, latency: done - tick });
  }
  return { tracer, latencies };
}

for (const capture of [false, true]) {
  test(`per frame, the parts of every path sum to its end-to-end time exactly (virtual time, 400 frames${capture ? ', capture events' : ''})`, (t) => {
    const { tracer, latencies } = simulate(400, 7, capture);
    const { paths } = findPaths(FORK_JOIN);
    const { frames, unmatched } = frameBreakdowns(FORK_JOIN, paths, tracer.events(), tracer.completions());
    t.deepEqual(unmatched, [0, 0]);
    t.is(frames.length, 2 * 400);
    for (const f of frames) {
      t.is(total(f.hops), f.e2e, `path ${f.path} frame ${f.seq}`);
      for (const h of f.hops) for (const p of PARTS) t.true(h[p] >= 0, `${p} of path ${f.path} frame ${f.seq} is not negative`);
      if (f.origin || capture) t.is(f.e2e, latencies[f.seq]!, 'the frame latency the run reports');
    }
    // Backlog builds up (durations exceed the period at times): waits are seen.
    const report = analysePaths(FORK_JOIN, tracer.events(), tracer.completions());
    t.is(report.paths.length, 2);
    const camPath = report.paths[0]!;
    t.is(camPath.name, 'camera → pre → fuse → sink');
    t.true(camPath.mean_ms.xpu_wait > 0 && camPath.mean_ms.input_wait > 0 && camPath.mean_ms.transfer > 0);
    const meanE2e = camPath.e2e_ms.mean;
    const sumOfMeans = PARTS.reduce((n, p) => n + camPath.mean_ms[p], 0);
    t.true(Math.abs(meanE2e - sumOfMeans) < 1e-9, 'the mean parts add up to the mean end-to-end time');
    t.is(camPath.worst.length, 5);
    t.true(camPath.worst[0]!.e2e_ms >= camPath.worst[4]!.e2e_ms);
  });
}

test.serial('a real run: paths of the hello pipeline decompose every completed frame (summary.paths)', async (t) => {
  const s = await runLaunch({ file: new URL('../launch/hello.launch.yaml', import.meta.url).pathname, launchArgs: [], frames: 40, realtime: false, print: false, plan: 'default', allowCommand: false, xnodes: [], reprofile: false });
  const paths = s!.paths as { paths: Array<{ name: string; frames: number; unmatched: number; e2e_ms: { count: number; p50: number }; mean_ms: Parts }> };
  t.is(paths.paths.length, 1);
  const p = paths.paths[0]!;
  t.is(p.name, 'source → scale → check');
  t.is(p.frames, 40);
  t.is(p.unmatched, 0);
  t.is(p.e2e_ms.p50, s!.e2e_ms.p50, 'one path: its end-to-end time is the run\'s');
  t.true(p.mean_ms.run > 0);
});
