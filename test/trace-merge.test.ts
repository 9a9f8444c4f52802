// Traces of two processes merged: times move onto the top process's clock, XPUs are named by
// process, a path crossing the processes decomposes exactly, totals add up.
import test from 'ava';
import { buildSummary } from '../runtime/trace/report.js';
import { dumpRun, mergeDumps } from '../runtime/trace/merge.js';
import { analysePaths } from '../runtime/trace/paths.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';

const names = ['source', 'scale', 'check'];

function facts(stages: number[], emitted: number, completed: number) {
  return {
    wallMs: 1000,
    completed,
    stages: stages.map((index) => ({ index, name: names[index]!, type: 't', module: 'm', impl: 'js', xpu: 'main', runs: 4, drops: 0, errors: 0 })),
    sources: emitted ? [{ name: 'source', emitted, overruns: 0 }] : [],
    xpus: [{ id: 'main', real: true, busyMs: 10 }],
    sections: {},
  };
}

test('two processes merge into one run: one clock, process-named XPUs, paths across them', (t) => {
  // The child (sensors) started 1000 ms of epoch after the top process: its clock reads 1000 ms less.
  const child = new Tracer(3, { now: () => 0 });
  const top = { clock: 0 };
  const main = new Tracer(3, { now: () => top.clock });
  for (let n = 0; n < 4; n++) {
    const t = 2000 + n * 20; // top clock
    const c = t - 1000; // the same instant on the child's clock
    child.record(0, 0, EventKind.Wait, n, c, c);
    child.record(0, 0, EventKind.Run, n, c, c + 0.5);
    child.record(1, 0, EventKind.Wait, n, c + 0.5, c + 0.5);
    child.record(1, 0, EventKind.Run, n, c + 0.5, c + 2);
    main.record(2, 0, EventKind.Wait, n, t + 3, t + 3); // 1 ms over DDS
    main.record(2, 0, EventKind.Run, n, t + 3, t + 3.5);
    top.clock = t + 3.5;
    main.endToEnd(2, 3.5);
  }
  const childDump = { ...dumpRun('sensors', child, buildSummary('f', 'p', facts([0, 1], 4, 0), child, { 'a.x': 1 }), ['main']), timeOrigin: 1_000_000 + 1000 };
  const mainDump = { ...dumpRun('main', main, buildSummary('f', 'p', facts([2], 0, 4), main, { 'a.x': 2 }), ['main']), timeOrigin: 1_000_000 };
  const m = mergeDumps([mainDump, childDump], names);
  t.deepEqual(m.xpuNames, ['main:main', 'sensors:main']);
  t.deepEqual(m.summary.stages.map((s) => s.name), names);
  t.deepEqual(m.summary.frames, { emitted: 4, completed: 4, source_overruns: 0, lost: { dropped: 0, failed: 0, timed_out: 0, overrun: 0, filtered: 0, refused: 0, lost: 0, in_flight: 0 } });
  t.is(m.summary.counters['a.x'], 3);
  t.deepEqual(m.summary.xpus.map((x) => x.id), ['main:main', 'sensors:main']);
  const runs = [...m.tracer.events()].filter((e) => e.kind === EventKind.Run && e.stage === 0);
  t.deepEqual(runs.map((e) => e.start), [2000, 2020, 2040, 2060], 'child times on the top clock');
  const p = analysePaths({ stages: names, edges: [{ from: 0, to: 1 }, { from: 1, to: 2 }], sources: [0], sinks: [2] }, m.tracer.events(), m.tracer.completions());
  const path = p.paths[0]!;
  t.is(path.frames, 4);
  t.is(path.e2e_ms.p50, 3.5);
  t.deepEqual(path.hops[2]!.mean_ms, { run: 0.5, xpu_wait: 0, input_wait: 0, transfer: 1 }, 'the DDS hop is transfer');
});
