// Branch priorities with preemption in the perception pipeline: the camera branch's device
// stages (preprocess, decode) at the critical path's priority and the lidar branch's (voxel,
// ground, cluster) at the base priority share one device. Every frame both branches are
// released (the camera at a random point of the lidar branch's work); the camera branch's
// end-to-end latency is compared with preemption on (lidar kernels killed at a block boundary
// and relaunched) and off (camera launches wait for the running kernel), in alternating rounds
// of one run. The stages are driven directly, not through the executor, so the figure is the
// device's alone; the detector (on the host) is left out: decode takes the frame's head.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../runtime/gpu/corpus.js';
import { acquireDevice, CRITICAL_PATH_BAND, setSharedDeviceOptions } from '../runtime/gpu/index.js';
import type { PortValues, StageInstance } from '../runtime/xnode/types.js';
import { context, instantiate, sampleInputs, xnodeDef, type ContextLog } from '../xnodes/perception-common/fixtures.js';

export interface PipelineResult {
  rows: string[][];
  hpRatio: number;
  lidarRatio: number;
  preemptions: Record<string, number>;
  /** Device-wide, preempt rounds: kills done, and kills declined (victim at its kill cap, or its remaining run too short). */
  kills: { done: number; avoidedCap: number; avoidedShort: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

async function stage(type: string, priority: number, log: ContextLog): Promise<StageInstance> {
  const def = xnodeDef(type);
  return instantiate(def.impls.find((i) => i.name === 'device')!, { ...context(def, 'device', {}, log), priority });
}

export async function pipelineBench(rounds: number, framesPerRound: number): Promise<PipelineResult> {
  const inputs = await sampleInputs(4, { objects: 10, seed: 3 });
  const rand = prng(17);
  const e2e = { preempt: { cam: [] as number[], lidar: [] as number[] }, wait: { cam: [] as number[], lidar: [] as number[] } };
  const preemptions: Record<string, number> = {};
  const kills = { done: 0, avoidedCap: 0, avoidedShort: 0 };
  for (let r = 0; r < rounds * 2; r++) {
    const mode = (r + Math.floor(r / 2)) % 2 === 0 ? 'preempt' : 'wait';
    setSharedDeviceOptions({ preempt: mode === 'preempt' });
    const log: ContextLog = { counts: {}, logs: [], sections: {} };
    const hi = CRITICAL_PATH_BAND;
    const pre = await stage('camera/preprocess', hi + 3, log), dec = await stage('detect/decode', hi + 1, log);
    const vox = await stage('lidar/voxel', 3, log), gnd = await stage('lidar/ground', 2, log), clu = await stage('lidar/cluster', 1, log);
    const lease = acquireDevice(); // the stages' shared device, for its kill counters
    lease.device.resetStats();
    for (let f = 0; f < framesPerRound + 1; f++) {
      const inp = inputs[f % inputs.length]!;
      const fi = { seq: f, t0: 0 };
      const t0 = performance.now();
      const lidar = (async () => {
        const v = (await vox.process(inp['lidar/voxel'] as PortValues, fi))!;
        const g = (await gnd.process({ points: v.points }, fi))!;
        await clu.process({ points: g.points }, fi);
        return performance.now() - t0;
      })();
      await sleep(1 + Math.floor(rand() * 8)); // the camera frame lands inside the lidar work
      const tc = performance.now();
      await pre.process(inp['camera/preprocess'] as PortValues, fi);
      await dec.process(inp['detect/decode'] as PortValues, fi);
      const cam = performance.now() - tc;
      const lid = await lidar;
      if (f > 0) {
        // the first frame of a round warms the stages up
        e2e[mode].cam.push(cam);
        e2e[mode].lidar.push(lid);
      }
    }
    for (const s of [pre, dec, vox, gnd, clu]) await s.finish?.();
    if (mode === 'preempt') {
      const st = lease.device.stats();
      kills.done += st.preemptions;
      kills.avoidedCap += st.killsAvoidedCap;
      kills.avoidedShort += st.killsAvoidedShort;
      for (const [name, st] of Object.entries((log.sections.device ?? {}) as Record<string, { preemptions: number }>)) {
        preemptions[name] = (preemptions[name] ?? 0) + st.preemptions;
      }
    }
    for (const s of [pre, dec, vox, gnd, clu]) await s.close?.();
    lease.release();
  }
  setSharedDeviceOptions({});
  const f = (v: number) => v.toFixed(2);
  const rows = [
    ['mode', 'camera branch e2e p50 ms', 'lidar branch e2e p50 ms', 'frames'],
    ['preempt', f(median(e2e.preempt.cam)), f(median(e2e.preempt.lidar)), String(e2e.preempt.cam.length)],
    ['wait', f(median(e2e.wait.cam)), f(median(e2e.wait.lidar)), String(e2e.wait.cam.length)],
  ];
  return {
    rows,
    hpRatio: median(e2e.preempt.cam) / median(e2e.wait.cam),
    lidarRatio: median(e2e.preempt.lidar) / median(e2e.wait.lidar),
    preemptions,
    kills,
  };
}
