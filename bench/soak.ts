// `npm run bench -- soak [SECONDS] [--window S] [--plan xauto|default|module] [name:=value ...]`:
// the perception pipeline (launch/perception.launch.yaml, synthetic sensors, no ROS2 output) at
// its sensors' rates for SECONDS (default 60), in this process. Every window (default 60 s, or a
// sixth of a shorter run) it prints resident memory, frames emitted/completed, drops and stage
// errors, and end-to-end latency of the frames completed in that window. Not part of CI.
// Last line: {"bench":"soak","duration_s":..,"rss_growth":..,"lost_unaccounted":..,...}
//   rss_growth: (RSS at the end - RSS after the first window) / RSS after the first window
//   lost_unaccounted: per sink, frames its sources emitted that neither completed at it nor
//   were counted as dropped or failed at a stage on the way; a lower bound while the drop
//   counters are per stage input (one frame may be counted at several inputs)
import { cpus, loadavg } from 'node:os';
import { Executor } from '../runtime/exec/executor.js';
import { graphOf, loadDescription } from '../runtime/cli/pipeline.js';
import type { Graph } from '../runtime/graph/index.js';
import { resolvePlan } from '../runtime/schedule/index.js';
import { counters } from '../runtime/trace/counters.js';
import { table } from '../runtime/trace/report.js';
import { summarize } from '../runtime/trace/stats.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const MB = 2 ** 20;

function parse(args: string[]): { seconds: number; windowS?: number; plan: string; launchArgs: string[] } {
  let seconds = 60;
  let windowS: number | undefined;
  let plan = 'xauto';
  const launchArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--window') windowS = Number(args[++i]);
    else if (a === '--plan') plan = args[++i]!;
    else if (a.includes(':=')) launchArgs.push(a);
    else seconds = Number(a);
  }
  if (!(seconds > 0)) throw new Error(`soak: duration '${seconds}': expected seconds > 0`);
  if (windowS !== undefined && !(windowS > 0)) throw new Error('soak: --window: expected seconds > 0');
  return { seconds, windowS, plan, launchArgs };
}

/** Stages from which frames reach `sink` (itself included), and the sources among them. */
function upstream(graph: Graph, sink: number): { stages: Set<number>; sources: number[] } {
  const stages = new Set<number>([sink]);
  const todo = [sink];
  while (todo.length) {
    const s = graph.stages[todo.pop()!]!;
    for (const input of s.inputs) {
      for (const p of graph.topics.get(input.topic)?.publishers ?? []) {
        if (!stages.has(p.stage)) {
          stages.add(p.stage);
          todo.push(p.stage);
        }
      }
    }
  }
  return { stages, sources: [...stages].filter((i) => graph.stages[i]!.inputs.length === 0) };
}

export default async function soak(args: string[]): Promise<void> {
  const o = parse(args);
  const windowS = o.windowS ?? Math.min(60, o.seconds / 6);
  const desc = loadDescription('launch/perception.launch.yaml', ['publish_tracks:=false', ...o.launchArgs]);
  const graph = await graphOf(desc);
  const xpus = await discoverXpus({});
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const chosen = await resolvePlan(graph, xpus, o.plan, { log, progress: true });
  counters.reset();
  const ex = new Executor(graph, chosen.plan, { xpus, durationS: o.seconds, realtime: true, codec: chosen.codec, fallback: chosen.fallback, log });
  await ex.start();
  log(`soak: perception pipeline, plan '${chosen.plan.name}', ${o.seconds} s at the sensors' rates, a row every ${windowS} s`);
  const rows = [['t (s)', 'rss MB', 'heap MB', 'emitted', 'completed', 'drops', 'errors', 'e2e p50 ms', 'e2e p99 ms', 'load']];
  const rss: number[] = [];
  let last = { emitted: 0, completed: 0, drops: 0, errors: 0, e2e: new Map<number, number>() };
  const t0 = performance.now();
  const sample = (): void => {
    const r = ex.report();
    const emitted = r.sources.reduce((n, s) => n + s.emitted, 0);
    const drops = r.stages.reduce((n, s) => n + s.drops, 0);
    const errors = r.stages.reduce((n, s) => n + s.errors, 0);
    // End-to-end latencies of the frames completed in this window only.
    const fresh: number[] = [];
    const seen = new Map<number, number>();
    for (const [sink, samples] of ex.tracer.e2e) {
      const v = samples.values();
      fresh.push(...v.subarray(last.e2e.get(sink) ?? 0));
      seen.set(sink, v.length);
    }
    const e = summarize(fresh);
    const m = process.memoryUsage();
    rss.push(m.rss);
    rows.push([
      ((performance.now() - t0) / 1000).toFixed(0), (m.rss / MB).toFixed(0), (m.heapUsed / MB).toFixed(0),
      String(emitted - last.emitted), String(r.completed - last.completed), String(drops - last.drops), String(errors - last.errors),
      e.count ? e.p50.toFixed(1) : '-', e.count ? e.p99.toFixed(1) : '-', loadavg()[0]!.toFixed(2),
    ]);
    process.stderr.write(`${rows[rows.length - 1]!.join('  ')}\n`);
    last = { emitted, completed: r.completed, drops, errors, e2e: seen };
  };
  const ticker = setInterval(sample, windowS * 1000);
  try {
    await ex.run();
  } finally {
    clearInterval(ticker);
  }
  sample();
  rows[rows.length - 1]![0] += ' (drained)';
  const facts = ex.report();
  await ex.close();

  // Every frame a sink's sources emitted either completed there or was counted on the way
  // (stage input drops, including join misalignment, and stage errors). Completions are
  // counted per frame; the drop counters are per stage input and may count one frame at
  // several inputs, so `unaccounted` is a lower bound until the executor counts each frame's
  // outcome exactly once.
  const byIndex = new Map(facts.stages.map((s) => [s.index, s]));
  const emittedBy = new Map(graph.stages.map((s, i) => [i, facts.sources.find((x) => x.name === s.name)?.emitted ?? 0]));
  const feeds = (i: number) => [...graph.topics.values()].some((t) => t.publishers.some((p) => p.stage === i) && t.subscribers.length > 0);
  const sinks = graph.stages.map((_, i) => i).filter((i) => !feeds(i) && graph.stages[i]!.inputs.length > 0);
  const lossRows = [['sink', 'expected', 'completed', 'not completed', 'counted upstream', 'unaccounted']];
  let unaccounted = 0;
  let notCompleted = 0;
  for (const k of sinks) {
    const up = upstream(graph, k);
    const expected = Math.min(...up.sources.map((s) => emittedBy.get(s)!));
    const done = byIndex.get(k)?.runs ?? 0;
    let counted = 0;
    for (const s of up.stages) counted += (byIndex.get(s)?.drops ?? 0) + (byIndex.get(s)?.errors ?? 0);
    const missing = Math.max(0, expected - done);
    const u = Math.max(0, missing - counted);
    unaccounted += u;
    notCompleted += missing;
    lossRows.push([graph.stages[k]!.name, String(expected), String(done), String(missing), String(counted), String(u)]);
  }
  const base = rss[0]!;
  const growth = rss.length > 1 ? (rss[rss.length - 1]! - base) / base : 0;
  console.log(table(rows));
  console.log(table(lossRows));
  const c = Object.entries(counters.snapshot());
  if (c.length) console.log(`counters: ${c.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  console.log(`(shared machine: ${cpus().length} cores, 1-min load ${loadavg()[0]!.toFixed(2)} at the end; RSS growth is measured from the end of the first window)`);
  console.log(
    JSON.stringify({
      bench: 'soak',
      duration_s: o.seconds,
      plan: chosen.plan.name,
      rss_mb_first_window: Math.round(base / MB),
      rss_mb_end: Math.round(rss[rss.length - 1]! / MB),
      rss_growth: Number(growth.toFixed(4)),
      emitted: facts.sources.reduce((n, s) => n + s.emitted, 0),
      completed: facts.completed,
      not_completed: notCompleted,
      lost_unaccounted: unaccounted,
      lost_unaccounted_is_lower_bound: true,
    }),
  );
}
