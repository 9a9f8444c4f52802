// Speculation in the pipeline (also run by `npm run bench -- speculative`): the perception launch with rollout:=true at its sensors' rates,
// speculation on (rollout_impl:=speculative, its draft stage beside it) and off
// (rollout_impl:=plain, no draft stage), each planned by xauto, in alternating rounds (ABBA)
// of one run. The figure is the end-to-end p50 at the rollout sink (camera or lidar capture to
// predicted trajectories) over the frames that rolled out at least one agent (a loaded
// machine drops frames, tracks then start their histories over, and a frame without agents
// costs the rollout stage nothing), speculation on over off; every frame at that sink, the
// other sink (evaluate) and the rollout stage's own run time beside it.
import { join } from 'node:path';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { Executor } from '../runtime/exec/executor.js';
import { launchTimeouts } from '../runtime/exec/options.js';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { resolvePlan } from '../runtime/schedule/index.js';
import { table } from '../runtime/trace/report.js';
import { summarize } from '../runtime/trace/stats.js';
import { packageRoot } from '../runtime/util/paths.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { T } from '../xnodes/planning/motion.js';

const MODES = { on: 'speculative', off: 'plain' } as const;
type Mode = keyof typeof MODES;

interface Round {
  /** Rollout sink e2e p50 over frames with agents, over every frame; all sinks' p50. */
  rollout: number;
  every: number;
  all: number;
  run: number;
  calls: number;
  plainCalls: number;
  frames: number;
  tokens: number;
  fresh: number;
  placement: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** Runs the rounds; returns the ratio of rollout-sink e2e p50, speculation on over off (medians over rounds). */
export async function pipelineRatio(rounds: number, seconds: number): Promise<{ ratio: number; allRatio: number }> {
  const file = join(packageRoot(), 'launch', 'perception.launch.yaml');
  const xpus = await discoverXpus({});
  const quiet = (_: string) => undefined;
  const got: Record<Mode, Round[]> = { on: [], off: [] };
  for (let r = 0; r < rounds * 2; r++) {
    const mode: Mode = (r + Math.floor(r / 2)) % 2 === 0 ? 'on' : 'off';
    process.stderr.write(`  pipeline round ${r + 1}/${rounds * 2}: speculation ${mode}, ${seconds} s          \r`);
    const desc = loadLaunchFile(file, { args: { rollout: 'true', rollout_impl: MODES[mode], publish_tracks: 'false' } });
    const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
    const { plan, fallback, timeout } = await resolvePlan(graph, xpus, 'xauto', { log: quiet });
    // Agents rolled out per frame, seen on the rollouts topic.
    const agents = new Map<number, number>();
    const tap = (topic: string, value: unknown, seq: number) => {
      if (topic === '/perception/rollouts') agents.set(seq, (value as { rollouts: unknown[] }).rollouts.length);
    };
    const ex = new Executor(graph, plan, { xpus, durationS: seconds, settle: 10, fallback, timeout: launchTimeouts(graph, timeout), tap, log: quiet });
    await ex.start();
    await ex.run();
    await ex.close();
    const rep = ex.report();
    const sink = graph.stages.findIndex((x) => x.name === 'rollout');
    const done = ex.tracer.completions().filter((c) => c.sink === sink);
    const stage = (name: string) => rep.stages.find((x) => x.name === name);
    const rollout = stage('rollout');
    const draft = stage('rollout_draft');
    const q = (rep.sections.rollout ?? {}) as Record<string, number>;
    const all = [...ex.tracer.e2e.values()].flatMap((x) => [...x.values()]);
    got[mode].push({
      rollout: summarize(done.filter((c) => (agents.get(c.seq) ?? 0) > 0).map((c) => c.latency)).p50,
      every: summarize(done.map((c) => c.latency)).p50,
      all: summarize(all).p50,
      run: summarize([...ex.tracer.stageRun[sink]!.values()]).p50,
      calls: q.target_calls ?? 0,
      plainCalls: q.plain_calls ?? 0,
      frames: q.frames_rolled_out ?? 0,
      tokens: q.tokens ?? 0,
      fresh: q.drafts_fresh ?? 0,
      placement: `${rollout ? `${rollout.impl}@${rollout.xpu}` : '-'}${draft ? `, draft ${draft.impl}@${draft.xpu}` : ''}`,
    });
  }
  process.stderr.write('\n');
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const rows = (['on', 'off'] as const).map((m) => {
    const g = got[m];
    const sum = (k: 'calls' | 'plainCalls' | 'frames' | 'tokens' | 'fresh') => g.reduce((a, x) => a + x[k], 0);
    return [
      m,
      [...new Set(g.map((x) => x.placement))].join(' / '),
      f(median(g.map((x) => x.rollout))),
      g.map((x) => f(x.rollout)).join(' '),
      f(median(g.map((x) => x.every))),
      f(median(g.map((x) => x.all))),
      f(median(g.map((x) => x.run))),
      String(sum('frames')),
      (sum('tokens') / T / Math.max(1, sum('frames'))).toFixed(1),
      `${sum('calls')}/${sum('plainCalls')}`,
      m === 'on' ? `${sum('fresh')}/${sum('frames')}` : '-',
    ];
  });
  console.log(`perception launch, rollout:=true, at the sensors' rates (10 Hz), ${seconds} s per run, ${rounds} rounds each, alternating; planned by xauto`);
  console.log('  rollout e2e: frames with at least one agent rolled out; every frame: those without too (a loaded machine drops frames and tracks start over)');
  console.log(table([['speculation', 'placement', 'rollout e2e p50 ms', 'per run', 'every frame', 'all sinks p50 ms', 'rollout run p50 ms', 'frames rolled out', 'rollouts a frame', 'target calls/plain', 'frames with fresh drafts'], ...rows], 1));
  const on = median(got.on.map((x) => x.rollout));
  const off = median(got.off.map((x) => x.rollout));
  return { ratio: on / off, allRatio: median(got.on.map((x) => x.all)) / median(got.off.map((x) => x.all)) };
}

/** `npm run bench -- speculative-pipeline [ROUNDS SECONDS]`: the pipeline figure alone (`speculative` prints it too). */
export default async function main(args: string[]): Promise<void> {
  const r = await pipelineRatio(Number(args[0] ?? 3), Number(args[1] ?? 8));
  console.log(JSON.stringify({ bench: 'speculative-pipeline', pipeline_e2e_ratio_spec_over_plain: Math.round(r.ratio * 1000) / 1000, pipeline_e2e_ratio_all_sinks: Math.round(r.allRatio * 1000) / 1000 }));
}
