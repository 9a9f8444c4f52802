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
