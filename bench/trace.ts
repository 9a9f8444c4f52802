// What tracing, path accounting and MCAP recording cost a running pipeline: the hello chain
// (counter -> scale -> check, 4096 floats a frame) run frame after frame with tracing off (a
// tracer that records nothing), on (every event, then the per-path decomposition), and on
// with every topic recorded to MCAP; rounds interleaved so load drift hits all three alike.
// Saturated, recording writes ~200 MB/s: the writer thread streams it from the recorder's ring
// to the file (one native CRC pass, no copy), so what remains is mostly the publishing thread's
// one copy of each message.
// What recording costs the publishing thread itself is timed apart: one hello message (16 KB
// tensor) serialized as recorded (xauto-bulk) and as v8's serializer would, side by side.
// Also the cost of one trace event, timed in batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { graphOf, loadDescription } from '../runtime/cli/pipeline.js';
import { pathGraph } from '../runtime/cli/session.js';
import { serialize } from 'node:v8';
import { encodeBulk } from '../runtime/record/bulk.js';
import { Recorder } from '../runtime/record/recorder.js';
import { analysePaths } from '../runtime/trace/paths.js';
import { table } from '../runtime/trace/report.js';
import { quantile } from '../runtime/trace/stats.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

/** Records no event (end-to-end samples still kept: they are what is measured). */
class SilentTracer extends Tracer {
  override record(): void {}
}

type Mode = 'off' | 'on' | 'record';

export default async function main(args: string[]): Promise<void> {
  const frames = Number(args[0] ?? 1500);
  const rounds = Number(args[1] ?? 5);
  const root = new URL('..', import.meta.url).pathname;
  const desc = loadDescription(join(root, 'launch/hello.launch.yaml'), ['work_us:=100']);
  const graph = await graphOf(desc);
  const xpus = await discoverXpus({ workers: 1 });
  const plan = defaultPlan(graph, xpus);
  const paths = pathGraph(graph);
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-trace-'));
  const e2e: Record<Mode, number[]> = { off: [], on: [], record: [] };
  let analysisMs = 0;
  let analysed = 0;
  let recordedBytes = 0;
  /** What the recorder said (e.g. messages that found its ring full): shown, not hidden. */
  const recorderLines: string[] = [];
  const run = async (mode: Mode, round: number) => {
    const tracer = mode === 'off' ? new SilentTracer(graph.stages.length) : new Tracer(graph.stages.length);
    const rec = mode === 'record' ? new Recorder(join(dir, `r${round}.mcap`), [...graph.topics.values()].map((t) => ({ name: t.name, type: t.type })), { log: (l) => recorderLines.push(l) }) : undefined;
    await rec?.ready(); // as `xauto launch --record` does: the writer thread up before the first frame
    const ex = new Executor(graph, plan, { xpus, frames, tracer, settle: 50, tap: rec && ((topic, value, seq) => rec.record(topic, value, seq)), log: () => {} });
    await ex.start();
    await ex.run();
    await ex.close();
    if (rec) recordedBytes += (await rec.close()).bytes;
    if (mode !== 'off') {
      const t = performance.now();
      const a = analysePaths(paths, tracer.events(), tracer.completions());
      analysisMs += performance.now() - t;
      analysed += a.paths[0]?.frames ?? 0;
    }
    if (round >= 0) for (const s of tracer.e2e.values()) e2e[mode].push(...s.values());
  };
  await run('off', -1); // warm-up: JIT, first allocations
  for (let r = 0; r < rounds; r++) {
    // Rotating order, so no mode always runs first or last.
    const order: Mode[] = (['off', 'on', 'record'] as Mode[]).map((_, k, a) => a[(k + r) % 3]!);
    for (const m of order) await run(m, r);
  }
  rmSync(dir, { recursive: true, force: true });

  // One trace event, timed in batches of 1000 (the clock reading amortised).
  const tr = new Tracer(8, 1 << 16);
  const batches = new Float64Array(400);
  for (let b = 0; b < batches.length; b++) {
    const t = performance.now();
    for (let i = 0; i < 1000; i++) tr.record(i & 7, 0, EventKind.Run, i, t, t + 1);
    batches[b] = ((performance.now() - t) * 1e6) / 1000;
  }
  batches.sort();

  // Serializing one message on the publishing thread, into a warm buffer as the recorder's ring
  // gives, against v8.serialize (a fresh, growing buffer); batches of 200, interleaved.
  const msg = { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'hello' }, dims: [4096], data: Float32Array.from({ length: 4096 }, (_, i) => i) };
  const room = new Uint8Array(new SharedArrayBuffer(1 << 20));
  const warm = { room: (n: number) => room.subarray(0, n) };
  const bulkUs: number[] = [];
  const v8Us: number[] = [];
  for (let b = 0; b < 300; b++) {
    let t = performance.now();
    for (let i = 0; i < 200; i++) encodeBulk(msg, warm);
    bulkUs.push(((performance.now() - t) * 1000) / 200);
    t = performance.now();
    for (let i = 0; i < 200; i++) serialize(msg);
    v8Us.push(((performance.now() - t) * 1000) / 200);
  }
  const med = (a: number[]) => quantile(Float64Array.from(a).sort(), 0.5);

  const p = (m: Mode, q: number) => quantile(Float64Array.from(e2e[m]).sort(), q);
  const f = (v: number) => v.toFixed(3);
  console.log(
    table([
      ['tracing', 'frames', 'e2e p50 ms', 'e2e p90 ms', 'e2e p99 ms'],
      ...(['off', 'on', 'record'] as Mode[]).map((m) => [m === 'off' ? 'off (no event recorded)' : m === 'on' ? 'on (+ path accounting after the run)' : 'on + MCAP of every topic', String(e2e[m].length), f(p(m, 0.5)), f(p(m, 0.9)), f(p(m, 0.99))]),
    ]),
  );
  console.log(`serializing one 16 KB tensor message on the publishing thread: xauto-bulk ${f(med(bulkUs))} us, v8.serialize ${f(med(v8Us))} us (p50 of batches)`);
  for (const l of new Set(recorderLines)) console.log(l);
  console.log(`path accounting: ${f((analysisMs / Math.max(1, analysed)) * 1000)} us per frame after the run; MCAP: ${(recordedBytes / 1e6 / rounds).toFixed(1)} MB per run of ${frames} frames; trace event: ${f(quantile(batches, 0.5))} ns p50`);
  console.log(
    JSON.stringify({
      bench: 'trace',
      overhead: +(p('on', 0.5) / p('off', 0.5) - 1).toFixed(4),
      event_ns_p50: +quantile(batches, 0.5).toFixed(1),
      record_overhead: +(p('record', 0.5) / p('on', 0.5) - 1).toFixed(4),
      record_encode_us: +med(bulkUs).toFixed(2),
      record_encode_speedup_vs_v8: +(med(v8Us) / med(bulkUs)).toFixed(2),
      path_us_per_frame: +((analysisMs / Math.max(1, analysed)) * 1000).toFixed(2),
    }),
  );
}
