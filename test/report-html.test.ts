// The HTML report from hand-made runs (real Tracer, real summary builder): escaping, empty
// runs, simulated XPUs, long runs, overlapping runs on one XPU, and the timeline window.
import test from 'ava';
import { renderHtmlReport } from '../runtime/trace/html.js';
import { downsample, DOWNSAMPLE_MAX } from '../runtime/trace/plots.js';
import { reportRun, timelineWindow, type ReportInput, type ReportXpu } from '../runtime/trace/report-data.js';
import { buildSummary, type ExecFacts } from '../runtime/trace/report.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';

const XPUS: ReportXpu[] = [
  { id: 'main', kind: 'cpu', backend: 'main', real: true },
  { id: 'pool', kind: 'cpu', backend: 'worker', real: true },
  { id: 'npu0', kind: 'npu', backend: 'sim', real: false, note: 'declared in the launch file' },
];

function facts(names: string[], wallMs: number, sections: ExecFacts['sections'] = {}, completed = 0): ExecFacts {
  return {
    wallMs,
    completed,
    stages: names.map((name, index) => ({ index, name, type: `demo/${name}`, module: 'm', impl: 'js', xpu: index === 1 ? 'pool' : 'main', runs: 0, drops: 0, errors: 0 })),
    sources: [{ name: names[0]!, emitted: 0, overruns: 0 }],
    xpus: [
      { id: 'main', real: true, busyMs: wallMs / 2 },
      { id: 'pool', real: true, busyMs: wallMs * 1.5 },
    ],
    sections,
  };
}

/** A three-stage pipeline run of `frames` frames, 10 ms apart; the middle stage overlaps itself on `pool`. */
function pipeline(frames: number, names = ['src', 'work', 'sink'], sections: ExecFacts['sections'] = {}) {
  const tracer = new Tracer(names.length);
  for (let f = 0; f < frames; f++) {
    const t = f * 10;
    tracer.record(0, 0, EventKind.Run, f, t, t + 1);
    tracer.record(1, 1, EventKind.Wait, 0, t + 1, t + 1.5);
    tracer.record(1, 1, EventKind.Run, f, t + 1.5, t + 16); // longer than the period: two lanes
    tracer.record(2, 0, EventKind.Run, f, t + 16, t + 17);
    tracer.endToEnd(2, 17 + (f % 7));
  }
  const summary = buildSummary('launch/x.launch.yaml', 'xauto', facts(names, frames * 10, sections, frames), tracer, { 'demo.retries': 2 });
  return reportRun(summary, tracer, names, XPUS, [0]);
}

function input(runs: ReportInput['runs'], launchArgs: string[] = []): ReportInput {
  return {
    title: 'xauto profile: x.launch.yaml',
    file: 'launch/x.launch.yaml',
    launchArgs,
    mode: '60 frames per source',
    edges: [{ from: 'src', to: 'work', topic: '/a' }],
    createdAt: '2026-01-01T00:00:00Z',
    host: 'testhost',
    runs,
  };
}

test('text from launch arguments, names and sections is escaped', async (t) => {
  const run = pipeline(20, ['src', 'work<b>', 'sink'], { notes: { label: '</td><script>alert(1)</script>' } });
  const html = await renderHtmlReport(input([run], ['label:=<script>alert(1)</script>', "q:='\"&"]));
  t.notRegex(html, /<script/i);
  t.notRegex(html, /<b>\)/);
  t.true(html.includes('label:=&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.true(html.includes('q:=&#39;&quot;&amp;'));
  t.true(html.includes('work&lt;b&gt;'));
  t.true(html.includes('<h3>notes</h3>'));
  t.true(html.includes('<td>demo.retries</td><td class="n">2</td>'));
});

test('a run that completed no frame still renders, with dashes instead of numbers', async (t) => {
  const tracer = new Tracer(2);
  const summary = buildSummary('launch/x.launch.yaml', 'default', facts(['src', 'sink'], 0), tracer, {});
  const html = await renderHtmlReport(input([reportRun(summary, tracer, ['src', 'sink'], XPUS)]));
  t.true(html.includes('No stage runs were recorded.'));
  t.true(html.includes('<td>all sinks</td><td class="n">0</td><td class="n">–</td>'));
  t.false(html.includes('NaN'));
});

test('declared XPUs are marked simulated, real ones real', async (t) => {
  const html = await renderHtmlReport(input([pipeline(20)]));
  t.true(html.includes('<span class="badge sim">simulated</span> <b>npu0</b>'));
  t.true(html.includes('<span class="badge real">real</span> <b>pool</b>'));
  t.true(html.includes('<span class="badge real">real</span> <b>main</b>'));
});

test('overlapping runs on one XPU get lanes of their own in the timeline', async (t) => {
  const run = pipeline(40);
  const html = await renderHtmlReport(input([run]));
  const work = [...html.matchAll(/<title>work, frame \d+: [^<]*<\/title><rect x="[\d.]+" y="(\d+)"/g)].map((m) => m[1]);
  t.true(work.length >= 5);
  t.is(new Set(work).size, 2, 'two lanes on pool');
});

test('long runs are downsampled to bucket maxima, keeping the spikes', async (t) => {
  const values = Array.from({ length: 10_000 }, (_, i) => (i === 7777 ? 500 : 1));
  const d = downsample(values);
  t.true(d.length <= DOWNSAMPLE_MAX);
  t.is(Math.max(...d.map((p) => p.ms)), 500);
  const run = pipeline(20);
  run.e2e = { sink: values };
  const html = await renderHtmlReport(input([run]));
  t.true(html.includes('maximum per bucket of frames'));
  t.true(html.length < 1_000_000, `${html.length} bytes`);
});

test('the timeline window follows the slowest source, in steady state', (t) => {
  // Source 0 at 10 ms, source 1 at 5 ms: frame numbers of source 1 run ahead in time.
  const tracer = new Tracer(3);
  for (let f = 0; f < 20; f++) tracer.record(0, 0, EventKind.Run, f, f * 10, f * 10 + 2);
  for (let f = 0; f < 40; f++) tracer.record(1, 1, EventKind.Run, f, f * 5, f * 5 + 1);
  for (let f = 0; f < 20; f++) tracer.record(2, 0, EventKind.Run, f, f * 10 + 3, f * 10 + 4);
  const w = timelineWindow(tracer, [0, 1], 5);
  t.is(w.firstFrame, 8);
  t.is(w.lastFrame, 12);
  t.is(w.spanMs, 124 - 80);
  t.true(w.events.every((e) => e.start >= 0 && e.end <= w.spanMs));
  // Every run of the anchor's frames 8..12 is inside; source 1's runs at that time too.
  t.is(w.events.filter((e) => e.stage !== 1).length, 10);
  t.true(w.events.some((e) => e.stage === 1 && e.seq === 20));
});

test('a mostly idle window gets a second, zoomed timeline of one frame', async (t) => {
  const tracer = new Tracer(2);
  for (let f = 0; f < 30; f++) {
    tracer.record(0, 0, EventKind.Run, f, f * 10, f * 10 + 0.2);
    tracer.record(1, 0, EventKind.Run, f, f * 10 + 0.3, f * 10 + 0.8);
  }
  const summary = buildSummary('launch/x.launch.yaml', 'xauto', facts(['src', 'sink'], 300), tracer, {});
  const run = reportRun(summary, tracer, ['src', 'sink'], XPUS, [0]);
  t.truthy(run.zoom);
  t.is(run.zoom!.firstFrame, run.zoom!.lastFrame);
  t.true(Math.abs(run.zoom!.spanMs - 0.8) < 1e-9);
  const html = await renderHtmlReport(input([run]));
  t.true(html.includes(`Frame ${run.zoom!.firstFrame} alone, zoomed`));
  // The busy pipeline above has no zoom.
  t.is(pipeline(20).zoom, undefined);
});
