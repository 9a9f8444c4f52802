// Builds the cost model from a graph, the XPUs to plan on and a profile (measured here, or
// declared for a board), and turns model assignments back into executor plans.
import type { ExecPlan, StagePlacement } from '../exec/plan.js';
import { inputOf, type Graph } from '../graph/graph.js';
import type { DeclaredBoard } from '../xpu/declared.js';
import type { ImplSpec } from '../xnode/types.js';
import { runsOn, type XpuInfo } from '../xpu/types.js';
import type { Assignment, CostModel, ModelOption, ModelPort, ModelStage, ModelXpu } from './model.js';
import { boundedContention } from './corunner.js';
import { placementKey, type Profile, type StageLatency } from './profile.js';

/** Messages a stage reads and writes per run, up to which it runs warm after another (see below). */
export const WARM_BYTES = 64 * 1024;

export interface BuildOptions {
  /**
   * Real hosts: a stage none of whose options could be measured (e.g. fed only from ROS2, so
   * profiling had no sample input) gets every option at this nominal latency instead of none;
   * `unmeasured` lists them.
   */
  nominalMs?: number;
  unmeasured?: string[];
}

export function buildModel(graph: Graph, xpus: XpuInfo[], profile: Profile, bopts: BuildOptions = {}): CostModel {
  const mx: ModelXpu[] = xpus.map((x) => ({
    id: x.id,
    kind: x.kind,
    lanes: x.lanes,
    real: x.real,
    usesCores: x.real && x.kind === 'cpu',
    eventLoop: x.real && x.backend === 'main',
    pinsStateful: x.backend === 'worker',
    // A declared board's XPUs share its DRAM (stages declare how much they slow down there).
    sharedMemory: !x.real,
  }));
  const ports = new Map<string, ModelPort[]>();
  const stages: ModelStage[] = graph.stages.map((s) => {
    const inputs: ModelPort[] = s.inputs.map((i) => {
      const t = graph.topics.get(i.topic)!;
      const cost = profile.topics[i.topic];
      const port: ModelPort = {
        stage: s.index,
        ...inputOf(i),
        trigger: !i.spec.latched && !i.spec.optional,
        producers: t.publishers.map((p) => p.stage),
        bytes: cost?.bytes ?? 0,
        encodeMs: cost?.encodeMs ?? 0,
        decodeMs: cost?.decodeMs ?? 0,
      };
      let list = ports.get(i.topic);
      if (!list) ports.set(i.topic, (list = []));
      list.push(port);
      return port;
    });
    const options: ModelStage['options'] = [];
    const measured = profile.stages[s.index] ?? {};
    // Right after another run on an awake CPU, a stage of small messages runs at its back-to-back
    // time; one that reads or writes images or point clouds (hundreds of KB) still finds them
    // and its own buffers cold, as measured on this host: they keep their paced time.
    let bytes = 0;
    for (const p of inputs) if (p.trigger) bytes += p.bytes;
    for (const o of s.outputs) bytes += profile.topics[o.topic]?.bytes ?? 0;
    const warmable = bytes <= WARM_BYTES;
    xpus.forEach((x, xi) => {
      for (const impl of s.impls) {
        if (!placeable(impl, x)) continue;
        const lat = measured[placementKey({ impl: impl.name, xpu: x.id })];
        if (!lat) continue;
        const o: ModelOption = { impl: impl.name, xpu: xi, lat: { p50: lat.p50, q: lat.q, contention: boundedContention(lat.contention) } };
        // Paced (cold) times, with the back-to-back ones for runs that follow their XPU's last
        // closely, where the stage's messages are small enough to be found warm then.
        if (lat.hot && lat.paced && lat.paced.gapMs > 0 && warmable) o.lat.warm = { p50: lat.hot.p50, q: lat.hot.q, coldAfterMs: lat.paced.gapMs };
        options.push(o);
      }
    });
    if (options.length === 0 && bopts.nominalMs !== undefined && !profile.simulated) {
      xpus.forEach((x, xi) => {
        for (const impl of s.impls) if (x.real && placeable(impl, x)) options.push({ impl: impl.name, xpu: xi, lat: { p50: bopts.nominalMs! } });
      });
      if (options.length) bopts.unmeasured?.push(s.name);
    }
    return {
      name: s.name,
      module: s.module,
      priority: s.priority,
      periodMs: s.inputs.length === 0 || s.def.timer ? (s.rateHz > 0 ? 1000 / s.rateHz : 0) : -1,
      timer: !!s.def.timer,
      join: s.def.join,
      stateful: !!s.def.stateful,
      options,
      inputs,
      consumers: [],
      sink: graph.sinks.includes(s.index),
    };
  });
  for (const s of graph.stages) for (const o of s.outputs) stages[s.index]!.consumers.push(...(ports.get(o.topic) ?? []));
  return {
    stages,
    xpus: mx,
    order: graph.order,
    sources: graph.sources,
    sinks: graph.sinks,
    cores: profile.simulated ? Infinity : profile.cores,
    transfer: xpus.map((x) => profile.transfer[x.id] ?? { latencyMs: 0, msPerMB: 0 }),
    simulated: profile.simulated,
  };
}

/**
 * A profile for declared XPUs from a board file: each XNODE type's latency on each XPU (by
 * id, else by kind), taken by the first implementation targeting that kind (or any kind).
 */
export function declaredProfile(graph: Graph, xpus: XpuInfo[], boards: DeclaredBoard[]): Profile {
  const find = (type: string) => boards.find((b) => b.latency[type]);
  const stages = graph.stages.map((s) => {
    const out: Record<string, StageLatency> = {};
    const board = find(s.def.type);
    if (!board) return out;
    const table = board.latency[s.def.type]!;
    for (const x of xpus) {
      if (x.real) continue;
      const lat = table[x.id] ?? table[x.kind];
      if (!lat) continue;
      const impl = s.impls.find((i) => i.xpu === x.kind) ?? s.impls.find((i) => i.xpu === '*');
      if (!impl) continue;
      const p90 = lat.p90 ?? lat.p50;
      // A declared [p50, p90] becomes a sketch spreading evenly around them.
      const q = [lat.p50 * 0.9, lat.p50 * 0.95, lat.p50 * 0.98, lat.p50, lat.p50 + (p90 - lat.p50) * 0.5, p90, p90 * 1.1, p90 * 1.2];
      out[placementKey({ impl: impl.name, xpu: x.id })] = { p50: lat.p50, q, samples: 0, contention: board.contention[s.def.type] };
    }
    return out;
  });
  const topics: Profile['topics'] = {};
  for (const t of graph.topics.values()) {
    const pub = t.publishers[0];
    if (!pub) continue;
    const type = graph.stages[pub.stage]!.def.type;
    const board = boards.find((b) => b.bytes[type] !== undefined) ?? boards[0];
    const bytes = board?.bytes[type] ?? 0;
    const ser = board?.serialize ?? { latencyMs: 0, msPerMB: 0 };
    const ms = ser.latencyMs + (ser.msPerMB * bytes) / 1e6;
    topics[t.name] = { bytes, encodeMs: ms, decodeMs: ms };
  }
  const transfer: Profile['transfer'] = {};
  for (const b of boards) Object.assign(transfer, b.transfer);
  return {
    host: boards.map((b) => b.name).join(', ') || 'declared',
    simulated: true,
    cores: Infinity,
    stages,
    topics,
    transfer,
    measured: 0,
    cached: 0,
    failures: [],
  };
}

/**
 * Whether an implementation can be placed on an XPU. A declared XPU takes implementations
 * targeting its kind and those targeting any kind (an onnx model runs on whatever EP the
 * board's accelerator offers).
 */
export function placeable(impl: { backend: ImplSpec['backend']; xpu: string }, x: XpuInfo): boolean {
  if (x.backend === 'sim') return impl.xpu === x.kind || impl.xpu === '*';
  return runsOn(impl, x);
}

/** Stages of a graph that no option can place, for a clear error. */
export function unplaceable(m: CostModel): string[] {
  return m.stages.filter((s) => s.options.length === 0).map((s) => s.name);
}

/** The executor plan for a model assignment. */
export function toExecPlan(m: CostModel, a: Assignment, name: string): ExecPlan {
  const placements: StagePlacement[] = m.stages.map((s, v) => {
    const o = s.options[a.option[v]!]!;
    const p: StagePlacement = { impl: o.impl, xpu: m.xpus[o.xpu]!.id, priority: a.priority[v]! };
    const g = a.group?.[v];
    if (g !== undefined) p.group = g;
    const phase = a.phase?.[v];
    if (phase) p.phaseMs = phase;
    return p;
  });
  return { name, placements, serializeBetweenModules: !!a.serialize };
}
