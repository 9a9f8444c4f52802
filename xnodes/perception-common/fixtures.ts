// Sample inputs for every perception stage, made by running the pipeline's reference (JS)
// implementations over the synthetic scene; and in-process instantiation of any implementation.
// Used by the cross-implementation tests and the stages benchmark.
import { xnodes as cameraX } from '../camera/index.js';
import { xnodes as detectX } from '../detect/index.js';
import { xnodes as fusionX } from '../fusion/index.js';
import { xnodes as lidarX } from '../lidar/index.js';
import { xnodes as sensorsX } from '../sensors/index.js';
import { xnodes as trackingX } from '../tracking/index.js';
import { runsOnThread, type ImplContext, type ImplSpec, type ParamValue, type PortValues, type StageInstance, type WorkerModule, type XNodeDef } from '../../runtime/xnode/types.js';

export const perceptionXNodes: XNodeDef[] = [...sensorsX, ...cameraX, ...detectX, ...lidarX, ...fusionX, ...trackingX];

export function xnodeDef(type: string): XNodeDef {
  const def = perceptionXNodes.find((d) => d.type === type);
  if (!def) throw new Error(`no perception XNODE '${type}'`);
  return def;
}

export interface ContextLog {
  counts: Record<string, number>;
  logs: string[];
  sections: Record<string, Record<string, unknown>>;
}

/** An ImplContext with the XNODE's defaults (overridden by `params`) that records what it is told. */
export function context(def: XNodeDef, impl: string, params: Record<string, ParamValue> = {}, log?: ContextLog): ImplContext {
  const rec = log ?? { counts: {}, logs: [], sections: {} };
  const full: Record<string, ParamValue> = {};
  for (const [k, s] of Object.entries(def.params)) full[k] = s.default;
  Object.assign(full, params);
  return {
    name: def.type.split('/')[1]!,
    type: def.type,
    impl,
    xpu: 'test',
    executionProvider: 'cpu',
    params: full,
    priority: 0,
    log: (m) => rec.logs.push(m),
    count: (name, n = 1) => (rec.counts[name] = (rec.counts[name] ?? 0) + n),
    summary: (section, data) => (rec.sections[section] = { ...(rec.sections[section] ?? {}), ...data }),
  };
}

/** Creates an implementation in this thread (a worker implementation's module is imported). */
export async function instantiate(impl: ImplSpec, ctx: ImplContext): Promise<StageInstance> {
  const made = runsOnThread(impl) ? await ((await import(impl.module)) as { default: WorkerModule }).default.create(ctx) : await impl.create(ctx);
  return typeof made === 'function' ? { process: made } : made;
}

export interface SceneOptions {
  objects?: number;
  seed?: number;
  width?: number;
  height?: number;
}

/** Inputs of each stage (by XNODE type) for `frames` consecutive frames of the scene. */
export async function sampleInputs(frames: number, o: SceneOptions = {}): Promise<Array<Record<string, PortValues>>> {
  const scene = { objects: o.objects ?? 10, seed: o.seed ?? 7, rate: 10 };
  const mk = async (type: string, params: Record<string, ParamValue> = {}) => {
    const def = xnodeDef(type);
    const impl = def.impls[0]!;
    return instantiate(impl, context(def, impl.name, params));
  };
  const camera = await mk('sensors/camera', { ...scene, width: o.width ?? 640, height: o.height ?? 480 });
  const lidar = await mk('sensors/lidar', scene);
  const pre = await mk('camera/preprocess');
  const det = await mk('detect/detector');
  const dec = await mk('detect/decode');
  const nms = await mk('detect/nms');
  const vox = await mk('lidar/voxel');
  const gnd = await mk('lidar/ground');
  const clu = await mk('lidar/cluster');
  const fus = await mk('fusion/fuse');
  const trk = await mk('tracking/track');
  const out: Array<Record<string, PortValues>> = [];
  for (let seq = 0; seq < frames; seq++) {
    const f = { seq, t0: 0 };
    const run = async (s: StageInstance, inputs: PortValues) => (await s.process(inputs, f))!;
    const cam = await run(camera, {});
    const lid = await run(lidar, {});
    const r: Record<string, PortValues> = { 'sensors/camera': {}, 'sensors/lidar': {} };
    r['camera/preprocess'] = { image: cam.image };
    const t = await run(pre, r['camera/preprocess']);
    r['detect/detector'] = { tensor: t.tensor };
    const h = await run(det, r['detect/detector']);
    r['detect/decode'] = { head: h.head, camera_info: cam.camera_info };
    const d = await run(dec, r['detect/decode']);
    r['detect/nms'] = { detections: d.detections };
    const n = await run(nms, r['detect/nms']);
    r['lidar/voxel'] = { points: lid.points };
    const v = await run(vox, r['lidar/voxel']);
    r['lidar/ground'] = { points: v.points };
    const g = await run(gnd, r['lidar/ground']);
    r['lidar/cluster'] = { points: g.points };
    const c = await run(clu, r['lidar/cluster']);
    r['fusion/fuse'] = { detections: n.detections, clusters: c.clusters, camera_info: cam.camera_info };
    const fo = await run(fus, r['fusion/fuse']);
    r['tracking/track'] = { objects: fo.objects };
    const tr = await run(trk, r['tracking/track']);
    r['tracking/evaluate'] = { tracks: tr.tracks, tracks_2d: tr.tracks_2d, ground_truth: cam.ground_truth };
    out.push(r);
  }
  for (const s of [camera, lidar, pre, det, dec, nms, vox, gnd, clu, fus, trk]) await s.close?.();
  return out;
}

/**
 * Largest difference between two outputs, walking objects and arrays (numbers compared
 * absolutely; anything else must be equal). Infinity when the shapes differ.
 */
export function maxDifference(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Math.abs(a - b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<number>, y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length || a.constructor !== b.constructor) return Infinity;
    let m = 0;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
    return m;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, v, i) => Math.max(m, maxDifference(v, b[i])), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return Infinity;
    return ka.reduce((m, k) => Math.max(m, maxDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])), 0);
  }
  return a === b ? 0 : Infinity;
}
