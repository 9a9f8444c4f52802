// Over-time series from a hand-made trace: XPU busy share per bin, source overruns from the
// gaps in a source's frame numbers, deadline misses, drops the core traces; and CPU load per
// core from /proc/stat-format samples.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuSampler } from '../runtime/trace/cpu.js';
import { BINS, overTime } from '../runtime/trace/over-time.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';

test('busy share, overruns, drops and deadline misses over the run', (t) => {
  const clock = { now: 0 };
  const tr = new Tracer(2, { now: () => clock.now });
  // Source ticks every 10 ms; frames 3 and 7 are missing (overruns); the sink runs 5 ms.
  for (const n of [0, 1, 2, 4, 5, 6, 8, 9]) {
    tr.record(0, 0, EventKind.Run, n, n * 10, n * 10 + 1);
    tr.record(1, 1, EventKind.Run, n, n * 10 + 1, n * 10 + 6);
    clock.now = n * 10 + 6 + (n === 9 ? 20 : 0);
    tr.endToEnd(1, clock.now - n * 10);
  }
  tr.record(1, 1, EventKind.Drop, 5, 55, 55);
  const o = overTime({ events: [...tr.events()], completions: tr.completions(), stageNames: ['src', 'sink'], xpuNames: ['main', 'gpu'], sources: [0], deadlineMs: 10 });
  t.deepEqual(o.totals, { 'source overrun': 2, dropped: 1, 'deadline miss': 1 });
  t.is(o.xpuBusy.length, 2);
  const gpu = o.xpuBusy.find((x) => x.xpu === 'gpu')!;
  t.is(gpu.points.length, BINS);
  // Busy time is conserved: bins x width = total run time on the XPU (8 runs x 5 ms).
  const busyMs = gpu.points.reduce((n, p) => n + p.busy, 0) * o.binS * 1000;
  t.true(Math.abs(busyMs - 40) < 1e-9, `${busyMs}`);
  t.deepEqual(o.stageDurations.map((s) => s.values.length), [8, 8]);
  t.is(o.spanS, (9 * 10 + 26) / 1000);
});

test('CPU load per core from /proc/stat deltas', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-cpu-'));
  const file = join(dir, 'stat');
  const stat = (c0: number[], c1: number[]) => writeFileSync(file, `cpu  1 2 3 4 5 6 7 8\ncpu0 ${c0.join(' ')}\ncpu1 ${c1.join(' ')}\nintr 1\n`);
  stat([100, 0, 0, 100, 0, 0, 0, 0], [0, 0, 0, 200, 0, 0, 0, 0]);
  const s = new CpuSampler(60_000, file);
  s.start();
  // cpu0: 30 busy of 35 ticks; cpu1: all 40 idle (iowait counts as idle).
  stat([120, 0, 10, 105, 0, 0, 0, 0], [0, 0, 0, 230, 10, 0, 0, 0]);
  s.sample();
  const series = s.stop();
  t.is(series.cores.length, 2);
  t.is(series.cores[0]![0], 30 / 35);
  t.is(series.cores[1]![0], 0);
  t.is(series.t.length, 2, 'one sample, one at stop');
  const none = new CpuSampler(100, join(dir, 'missing')).stop();
  t.deepEqual(none.t, []);
  const bad = new CpuSampler(100, join(dir, 'missing'));
  bad.start();
  t.regex(bad.stop().unavailable!, /is not readable/);
});
