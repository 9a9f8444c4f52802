// trace.json as Perfetto reads it: one track per XPU lane (no two slices of a track overlap),
// waits on their own tracks with their frame, flow events linking each frame's runs.
import test from 'ava';
import { chromeTrace, type ChromeEvent } from '../runtime/trace/chrome.js';
import type { PathGraph } from '../runtime/trace/paths.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';

// source(0) -> infer(1) -> sink(2); infer runs on a two-lane XPU (1), frames overlap there.
const G: PathGraph = { stages: ['source', 'infer', 'sink'], edges: [{ from: 0, to: 1 }, { from: 1, to: 2 }], sources: [0], sinks: [2] };

function trace() {
  const clock = { now: 0 };
  const tr = new Tracer(3, { now: () => clock.now });
  for (let n = 0; n < 6; n++) {
    const t0 = n * 2;
    tr.record(0, 0, EventKind.Wait, n, t0, t0);
    tr.record(0, 0, EventKind.Run, n, t0, t0 + 0.5);
    tr.record(1, 1, EventKind.Wait, n, t0 + 0.5, t0 + 0.75);
    tr.record(1, 1, EventKind.Run, n, t0 + 0.75, t0 + 3.75); // 3 ms every 2 ms: two lanes busy
    tr.record(2, 0, EventKind.Wait, n, t0 + 3.75, t0 + 4);
    tr.record(2, 0, EventKind.Run, n, t0 + 4, t0 + 4.25);
    clock.now = t0 + 4.25;
    tr.endToEnd(2, 4.25);
  }
  return chromeTrace(tr, G.stages, ['main', 'gpu'], G).traceEvents;
}

test('one track per lane: no two slices on one track overlap', (t) => {
  const slices = trace().filter((e) => e.ph === 'X');
  const tracks = new Map<string, ChromeEvent[]>();
  for (const e of slices) (tracks.get(`${e.pid}/${e.tid}`) ?? tracks.set(`${e.pid}/${e.tid}`, []).get(`${e.pid}/${e.tid}`)!).push(e);
  for (const [k, list] of tracks) {
    list.sort((a, b) => a.ts! - b.ts!);
    for (let i = 1; i < list.length; i++) t.true(list[i]!.ts! >= list[i - 1]!.ts! + list[i - 1]!.dur!, `track ${k}`);
  }
  const names = trace().filter((e) => e.name === 'thread_name').map((e) => String(e.args!.name));
  t.true(names.includes('gpu lane 0') && names.includes('gpu lane 1'), 'the two-lane XPU has two tracks');
  t.false(names.includes('gpu lane 2'));
});

test('waits carry their frame; flow events link each frame from its source run to its sink run', (t) => {
  const events = trace();
  const waits = events.filter((e) => e.cat === 'wait');
  t.true(waits.length > 0);
  t.true(waits.every((e) => typeof e.args?.frame === 'number'));
  const starts = events.filter((e) => e.ph === 's');
  const ends = events.filter((e) => e.ph === 'f');
  t.is(starts.length, 6 * 2, 'source->infer and infer->sink for 6 frames');
  t.is(ends.length, starts.length);
  const runs = events.filter((e) => e.cat === 'run');
  for (const s of starts) {
    const f = ends.find((e) => e.id === s.id)!;
    t.is(f.bp, 'e');
    // Each end lies at the start of a run of the same frame on its track.
    const consumer = runs.find((r) => r.pid === f.pid && r.tid === f.tid && r.ts === f.ts)!;
    const producer = runs.find((r) => r.pid === s.pid && r.tid === s.tid && r.ts === s.ts)!;
    t.truthy(consumer, 'flow ends on a run');
    t.truthy(producer, 'flow starts on a run');
    t.is(consumer.args!.frame, producer.args!.frame);
    t.is(s.name, `frame ${String(consumer.args!.frame)}`);
  }
});

test('runs sit on the lane the dispatch core gave them; copies on a track of their own; a trace without lanes falls back to greedy tracks', (t) => {
  const tr = new Tracer(2);
  tr.record(0, 0, EventKind.Run, 0, 0, 1, 0, 1); // lane 1 though lane 0 is free: the core said 1
  tr.record(0, 0, EventKind.Run, 1, 2, 3, 0, 1);
  tr.record(1, 0, EventKind.Run, 1, 2.5, 4, 0, 0);
  tr.record(1, 0, EventKind.Transfer, 1, 2.2, 2.6, 4096); // a copy: no lane
  const ev = chromeTrace(tr, ['a', 'b'], ['gpu']).traceEvents;
  const slices = ev.filter((e) => e.ph === 'X');
  t.deepEqual(slices.map((e) => [e.name, e.tid]), [['a', 1], ['a', 1], ['b transfer', 2], ['b', 0]]);
  const names = ev.filter((e) => e.name === 'thread_name').map((e) => `${e.tid}:${String(e.args!.name)}`).sort();
  t.deepEqual(names, ['0:gpu lane 0', '1:gpu lane 1', '2:gpu copies']);

  // Runs of one lane overlapping (a merged trace of two processes, say): greedy tracks instead.
  const odd = new Tracer(1);
  odd.record(0, 0, EventKind.Run, 0, 0, 2, 0, 0);
  odd.record(0, 0, EventKind.Run, 1, 1, 3, 0, 0);
  t.deepEqual(chromeTrace(odd, ['a'], ['cpu']).traceEvents.filter((e) => e.ph === 'X').map((e) => e.tid), [0, 1]);
});

test("a completion keeps the frame the dispatch core names, not the sink's latest run", (t) => {
  const tr = new Tracer(2, { now: () => 5 });
  tr.record(1, 0, EventKind.Run, 7, 0, 1);
  tr.endToEnd(1, 3, 6); // frame 6 completes after frame 7's run (a sink with two lanes)
  tr.endToEnd(1, 2);
  t.deepEqual(tr.completions().map((c) => c.seq), [6, 7]);
});
