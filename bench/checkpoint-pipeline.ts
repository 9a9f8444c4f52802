// What crash recovery costs a running pipeline: the perception launch with the device
// occupancy map (map:=true) runs at its sensors' rates through the same path as
// `xauto launch` (runtime/cli/session.ts), without checkpoints and with one every second
// (--checkpoint-every 1), alternating round by round; slowdown = e2e p50 with ÷ without - 1.
// And a new process's time to first output, cold or started from an image (--restore); and
// the pause of a live migration of the tracker to another process (--migrate).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunCheckpoints } from '../runtime/cli/checkpointing.js';
import { graphOf, loadDescription } from '../runtime/cli/pipeline.js';
import { runPlan } from '../runtime/cli/session.js';
import { MAIN_HEAP_FLAG } from '../runtime/exec/heap.js';
import { epochDir, listEpochs } from '../runtime/gpu/checkpoint-image.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { warmPays, type WarmModelInfo } from '../runtime/xpu/warm-models.js';

const FILE = 'launch/perception.launch.yaml';

export interface PipelineSlowdown {
  slowdown: number;
  /** Median and range over rounds of each alternating pair's on / off - 1. */
  slowdownPaired: number;
  slowdownRange: [number, number];
  p50Off: number;
  p50On: number;
  mapMib: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function pipelineSlowdown(o: { mapCells: number; seconds: number; rounds: number; log: (l: string) => void }): Promise<PipelineSlowdown> {
  const words = ['publish_tracks:=false', 'map:=true', 'map_impl:=device', `map_cells:=${o.mapCells}`];
  const desc = loadDescription(FILE, words, false, () => undefined);
  const graph = await graphOf(desc);
  const xpus = await discoverXpus({});
  const quiet = () => undefined;
  const p50: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const commits: number[] = [];
  const pauses: number[] = [];
  const mapMib = (o.mapCells * o.mapCells * 8 * 4) / 2 ** 20;
  for (let i = 0; i < o.rounds; i++) {
    for (const m of ['off', 'on'] as const) {
      process.stderr.write(`  pipeline round ${i + 1}/${o.rounds} checkpoints ${m}          \r`);
      const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-slowdown-'));
      const checkpoints = m === 'on' ? RunCheckpoints.of({ checkpointEvery: 1, checkpointDir: dir }, FILE, words, quiet) : undefined;
      try {
        const run = await runPlan(desc, graph, xpus, { spec: 'xauto', duration: o.seconds, settle: 10, log: quiet, control: { stopped: false }, checkpoints });
        if (!run) throw new Error('bench checkpoint: the pipeline run did not start');
        p50[m].push(run.summary.e2e_ms.p50);
        if (m === 'on') {
          const c = run.summary.checkpoint as { committed?: number; max_pause_us?: number } | undefined;
          commits.push(c?.committed ?? 0);
          pauses.push(c?.max_pause_us ?? 0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const off = median(p50.off);
  const on = median(p50.on);
  // Rounds alternate, so each pair saw the same host: the spread of their ratios is the noise.
  const pairs = p50.on.map((v, i) => v / p50.off[i]! - 1);
  o.log(`  perception + ${mapMib.toFixed(0)} MiB device map at the sensors' rates, ${o.seconds} s per run, ${o.rounds} rounds each (median):`);
  o.log('  checkpoints        e2e p50 ms  runs (p50 ms)');
  o.log(`  none              ${off.toFixed(2).padStart(10)}  ${p50.off.map((v) => v.toFixed(1)).join(' ')}`);
  o.log(`  every 1 s         ${on.toFixed(2).padStart(10)}  ${p50.on.map((v) => v.toFixed(1)).join(' ')}  (committed ${commits.join('/')} per run, max pause ${median(pauses).toFixed(0)} us)`);
  o.log(`  slowdown per round (on / off - 1): ${pairs.map((v) => v.toFixed(3)).join(' ')}; median ${median(pairs).toFixed(3)}`);
  return { slowdown: on / off - 1, slowdownPaired: median(pairs), slowdownRange: [Math.min(...pairs), Math.max(...pairs)], p50Off: off, p50On: on, mapMib };
}

export interface StartFromImage {
  coldMs: number;
  /** From the image, its sessions opened from the image's warm models (--warm-models always). */
  imageMs: number;
  /** From the same image with --warm-models never: sessions opened from the source models. */
  imageColdModelsMs: number;
  /** Sessions' open + first run, all sessions of the run together (ms): from warm models, from the source models. */
  modelsWarmMs: number;
  modelsColdMs: number;
  /** The sessions opened warm in the image starts (stage names). */
  warm: string[];
}

/** The warm models in the newest epoch of an image. */
function warmModelsOf(dir: string): WarmModelInfo[] {
  const m = JSON.parse(readFileSync(join(epochDir(dir, listEpochs(dir)[0]!), 'manifest.json'), 'utf8')) as { meta: { warmModels?: WarmModelInfo[] } };
  return m.meta.warmModels ?? [];
}

/** Runs `xauto launch` in a process of its own; its summary JSON. */
function launch(args: string[], summary: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_HEAP_FLAG, '--import=tsx', 'runtime/cli/main.ts', 'launch', FILE, ...args, '--summary-json', summary], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(summary, 'utf8'))) : reject(new Error(`xauto launch ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** The run's onnxruntime sessions (summary `models`): which opened warm, and their open + first run. */
function modelsOf(s: Record<string, Record<string, unknown>>): { warm: string[]; readyMs: number } {
  const m = s.models ?? {};
  let readyMs = 0;
  const warm: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (v === 'warm') warm.push(k);
    if (/_(open|first_run)_ms$/.test(k)) readyMs += Number(v);
  }
  return { warm, readyMs };
}

/**
 * Time to first output of a new `xauto launch` process (from its start to the first frame a
 * sink finished): a cold start (profiles cached, plan made, stages made, empty map) against a
 * start from an image (--restore: the image's plan, no planning; states and the device map
 * restored on demand), with its sessions opened from the image's warm models and, from the
 * same image, from the source models (--warm-models never). Rounds alternate, each round in
 * another order.
 */
export async function startFromImage(o: { mapCells: number; rounds: number; log: (l: string) => void }): Promise<StartFromImage> {
  const words = ['publish_tracks:=false', 'map:=true', 'map_impl:=device', `map_cells:=${o.mapCells}`];
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-start-'));
  try {
    const image = join(dir, 'image');
    await launch([...words, '--frames', '40', '--checkpoint-every', '0.3', '--checkpoint-dir', image], join(dir, 'make.json'));
    // What --warm-models auto picks, from the figures measured when the image was taken.
    for (const i of warmModelsOf(image)) {
      o.log(`  warm model of ${i.name}: opens in ${i.warmOpenMs.toFixed(1)} ms (source ${i.sourceOpenMs.toFixed(1)} ms), check run ${i.runMs.toFixed(1)} ms: auto ${warmPays(i) ? 'uses it' : 'opens the source model'}`);
    }
    const kinds = ['cold', 'image', 'image-cold-models'] as const;
    const ms: Record<(typeof kinds)[number], number[]> = { cold: [], image: [], 'image-cold-models': [] };
    const models: Record<'warm' | 'cold', number[]> = { warm: [], cold: [] };
    let warm: string[] = [];
    for (let i = 0; i < o.rounds; i++) {
      for (let j = 0; j < kinds.length; j++) {
        const k = kinds[(i + j) % kinds.length]!;
        process.stderr.write(`  start round ${i + 1}/${o.rounds} ${k}          \r`);
        // The cold start checkpoints too (its first image would be due after a minute): the same code path.
        const s =
          k === 'cold'
            ? await launch([...words, '--duration', '2', '--checkpoint-every', '60', '--checkpoint-dir', join(dir, `cold-${i}`)], join(dir, 'cold.json'))
            : await launch([...words, '--duration', '2', '--restore', image, '--warm-models', k === 'image' ? 'always' : 'never'], join(dir, 'image.json'));
        ms[k].push(Number((k === 'cold' ? s.checkpoint : s.restored)?.first_output_ms));
        const m = modelsOf(s);
        if (k === 'image') warm = m.warm;
        if (k !== 'cold') models[k === 'image' ? 'warm' : 'cold'].push(m.readyMs);
      }
    }
    const med = Object.fromEntries(kinds.map((k) => [k, median(ms[k])])) as Record<(typeof kinds)[number], number>;
    o.log(`  a new process, ${((o.mapCells * o.mapCells * 32) / 2 ** 20).toFixed(0)} MiB device map: time to first output, from the process start (median of ${o.rounds}):`);
    o.log('  start                                first output ms  runs              sessions open + first run ms');
    o.log(`  cold                                ${med.cold.toFixed(0).padStart(15)}  ${ms.cold.map((v) => v.toFixed(0)).join(' ').padEnd(16)}`);
    o.log(`  from the image, warm models         ${med.image.toFixed(0).padStart(15)}  ${ms.image.map((v) => v.toFixed(0)).join(' ').padEnd(16)}  ${models.warm.map((v) => v.toFixed(1)).join(' ')}  (warm: ${warm.join(', ') || 'none'})`);
    o.log(`  from the image, source models       ${med['image-cold-models'].toFixed(0).padStart(15)}  ${ms['image-cold-models'].map((v) => v.toFixed(0)).join(' ').padEnd(16)}  ${models.cold.map((v) => v.toFixed(1)).join(' ')}`);
    return { coldMs: med.cold, imageMs: med.image, imageColdModelsMs: med['image-cold-models'], modelsWarmMs: median(models.warm), modelsColdMs: median(models.cold), warm };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MigratePause {
  /** The tracker (host state). */
  pauseMs: number;
  queued: number;
  stateBytes: number;
  /** The occupancy map (its device grid moves too). */
  mapPauseMs: number;
  mapDeviceBytes: number;
  /** The tracker on a worker thread (its state copied in its worker, put back in the target's). */
  workerPauseMs: number;
}

interface MigrateRun {
  pause: number;
  queued: number;
  bytes: number;
  device: number;
  frame: number;
}

/**
 * The perception launch at its sensors' rates; 2 s in, a stage moves with its state to a
 * process started for it (--migrate STAGE@2:spare; DDS on loopback): the tracker (host
 * state), and the occupancy map (`mapCells`: its device grid too), rounds alternating. The
 * pause: how long the first frame forwarded to it waited, from the hand-over to its start
 * there. Median of the rounds.
 */
export async function migratePause(o: { rounds: number; mapCells: number; log: (l: string) => void }): Promise<MigratePause> {
  const subjects = {
    tracker: ['publish_tracks:=false', 'track_impl:=js', '--migrate', 'tracker@2:spare'],
    'tracker-worker': ['publish_tracks:=false', 'track_impl:=worker', '--migrate', 'tracker@2:spare'],
    map: ['publish_tracks:=false', 'map:=true', 'map_impl:=device', `map_cells:=${o.mapCells}`, '--migrate', 'map@2:spare'],
  };
  const env = { ...process.env, CYCLONEDDS_URI: process.env.CYCLONEDDS_URI ?? `file://${join(process.cwd(), 'test/fixtures/ros2/cyclonedds-loopback.xml')}` };
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-migrate-'));
  const runs: Record<keyof typeof subjects, MigrateRun[]> = { tracker: [], 'tracker-worker': [], map: [] };
  try {
    for (let i = 0; i < o.rounds; i++) {
      for (const k of ['tracker', 'tracker-worker', 'map'] as const) {
        process.stderr.write(`  migrate round ${i + 1}/${o.rounds} ${k}          \r`);
        const s = await launch([...subjects[k], '--duration', '4', '--plan', 'default'], join(dir, 'migrate.json'), env);
        const m = s.migration as { moved?: boolean; pause_ms?: number; queued?: number; state_bytes?: number; device_bytes?: number; frame?: number } | undefined;
        if (!m?.moved || typeof m.pause_ms !== 'number') throw new Error(`bench checkpoint: ${k} did not move (${JSON.stringify(m)})`);
        runs[k].push({ pause: m.pause_ms, queued: m.queued ?? 0, bytes: m.state_bytes ?? 0, device: m.device_bytes ?? 0, frame: Number(m.frame) });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  o.log(`  live migration to another process, perception at the sensors' rates (median of ${o.rounds}):`);
  o.log('  stage           round  after frame  host B  device B  queued  pause ms');
  for (const k of ['tracker', 'tracker-worker', 'map'] as const) {
    for (const [i, r] of runs[k].entries()) {
      o.log(`  ${k.padEnd(14)} ${String(i + 1).padStart(6)}  ${String(r.frame).padStart(11)}  ${String(r.bytes).padStart(6)}  ${String(r.device).padStart(8)}  ${String(r.queued).padStart(6)}  ${r.pause.toFixed(2).padStart(8)}`);
    }
  }
  const t = runs.tracker;
  return {
    pauseMs: median(t.map((r) => r.pause)),
    queued: median(t.map((r) => r.queued)),
    stateBytes: median(t.map((r) => r.bytes)),
    mapPauseMs: median(runs.map.map((r) => r.pause)),
    mapDeviceBytes: median(runs.map.map((r) => r.device)),
    workerPauseMs: median(runs['tracker-worker'].map((r) => r.pause)),
  };
}
