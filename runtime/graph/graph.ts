// The XNODE graph: stages resolved from the launch description, connected by topics, checked.
import type { LaunchDescription, ParamValue, SourcePos, XNodeEntity } from '../launch/types.js';
import { coerceParam } from '../xnode/define.js';
import type { XNodeRegistry } from '../xnode/registry.js';
import { didYouMean } from './suggest.js';
import type { ImplSpec, PortSpec, XNodeDef } from '../xnode/types.js';

export interface StagePort {
  port: string;
  topic: string;
  spec: PortSpec;
}

/** An input port's declaration as the dispatch core and the cost model read it (defaults applied). */
export function inputOf(i: StagePort): { port: string; topic: string; type: string; depth: number; latched: boolean; clear: boolean; optional: boolean } {
  return {
    port: i.port,
    topic: i.topic,
    type: i.spec.type,
    depth: Math.max(1, i.spec.depth ?? 1),
    latched: !!i.spec.latched,
    clear: !!i.spec.clear,
    optional: !!i.spec.optional,
  };
}

export interface Stage {
  index: number;
  name: string;
  def: XNodeDef;
  entity: XNodeEntity;
  params: Record<string, ParamValue>;
  /** Implementations this stage may use (launch `impl` filter applied), in definition order. */
  impls: ImplSpec[];
  inputs: StagePort[];
  outputs: StagePort[];
  priority: number;
  module: string;
  process: string;
  /** Sources: emit rate in Hz (0 = as fast as the pipeline takes frames); timer-driven stages: their timer rate (> 0). */
  rateHz: number;
}

export interface Topic {
  name: string;
  type: string;
  publishers: Array<{ stage: number; port: string }>;
  subscribers: Array<{ stage: number; port: string }>;
  /** Bound to ROS2 in this direction by the launch file. */
  ros2?: { dir: 'in' | 'out'; qos: string };
}

export interface Graph {
  file: string;
  stages: Stage[];
  topics: Map<string, Topic>;
  /** Stage indices in a topological order (sources first). */
  order: number[];
  sources: number[];
  sinks: number[];
}

export class GraphError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly detail: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${detail}`);
    this.name = 'GraphError';
  }
}

/** Builds and checks the graph; the first problem found is thrown as a positioned GraphError. */
export function buildGraph(desc: LaunchDescription, registry: XNodeRegistry): Graph {
  const stages = desc.xnodes.map((e, index) => resolveStage(e, index, registry));
  const topics = connect(stages);
  checkInputs(stages, topics);
  const order = topoOrder(stages, topics);
  return {
    file: desc.file,
    stages,
    topics,
    order,
    sources: stages.filter((s) => s.inputs.length === 0).map((s) => s.index),
    sinks: stages.filter((s) => s.outputs.length === 0 || s.outputs.every((o) => topics.get(o.topic)!.subscribers.length === 0)).map((s) => s.index),
  };
}

function resolveStage(e: XNodeEntity, index: number, registry: XNodeRegistry): Stage {
  const def = registry.get(e.type);
  if (!def) {
    const known = registry.types();
    const near = didYouMean(e.type, known);
    throw new GraphError(e.pos, `unknown XNODE type '${e.type}'` + (near || `; expected one of ${known.join(', ')}`));
  }
  const at = (key: string) => e.portPos[key] ?? e.pos;
  for (const port of Object.keys(e.inputs)) {
    if (!def.inputs[port]) throw new GraphError(at(port), `'${e.type}' has no input '${port}'; expected one of ${list(def.inputs)}`);
  }
  for (const port of Object.keys(e.outputs)) {
    if (!def.outputs[port]) throw new GraphError(at(port), `'${e.type}' has no output '${port}'; expected one of ${list(def.outputs)}`);
  }
  const params: Record<string, ParamValue> = {};
  // Values the xnode's own `param` entities give must exist; like a ROS2 node, it ignores
  // global (set_parameter) and parameter-file values for parameters it does not declare.
  const own = new Set(e.ownParams ?? []);
  for (const [name, value] of Object.entries(e.params)) {
    const spec = def.params[name];
    if (!spec && e.ownParams && !own.has(name)) continue;
    if (!spec) {
      const near = didYouMean(name, Object.keys(def.params));
      throw new GraphError(at(name), `'${e.type}' has no parameter '${name}'; expected one of ${list(def.params)}${near ? ` (${near.slice(2)})` : ''}`);
    }
    if (e.paramTypes?.[name]?.startsWith('int') && (typeof value === 'string' || (Array.isArray(value) && value.some((x) => typeof x === 'string')))) {
      throw new GraphError(at(name), `parameter '${name}' of '${e.name}': ${JSON.stringify(value)} is beyond the integers a stage can take exactly (±2^53)`);
    }
    const [v, why] = coerceParam(spec, value);
    if (v === undefined) throw new GraphError(at(name), `parameter '${name}' of '${e.name}': ${why}`);
    params[name] = v;
  }
  for (const [name, spec] of Object.entries(def.params)) if (!(name in params)) params[name] = spec.default;

  let impls = def.impls;
  if (e.impls.length) {
    for (const want of e.impls) {
      if (!def.impls.some((i) => i.name === want)) {
        throw new GraphError(at('impl'), `'${e.type}' has no implementation '${want}'; expected one of ${def.impls.map((i) => i.name).join(', ')}`);
      }
    }
    impls = def.impls.filter((i) => e.impls.includes(i.name));
  }
  const ports = (m: Record<string, string>, specs: Record<string, PortSpec>) =>
    Object.entries(specs)
      .filter(([port]) => port in m)
      .map(([port, spec]) => ({ port, topic: m[port]!, spec }));
  const rateParam = def.rateParam ?? 'rate';
  const rateHz = Object.keys(def.inputs).length === 0 || def.timer ? Number(params[rateParam] ?? 0) : 0;
  // A rate beyond 1 MHz (e.g. 1e23 from a typo) would make the period 0 and the run spin.
  if (!(Number.isFinite(rateHz) && rateHz >= 0 && rateHz <= 1e6)) {
    throw new GraphError(at(rateParam), `parameter '${rateParam}' of '${e.name}': ${rateHz} Hz is out of range; expected 0 (as fast as taken) to 1000000`);
  }
  if (def.timer && !(rateHz > 0)) throw new GraphError(at(rateParam), `parameter '${rateParam}' of '${e.name}': a timer-driven stage needs a rate above 0 Hz`);
  return {
    index,
    name: e.name,
    def,
    entity: e,
    params,
    impls,
    inputs: ports(e.inputs, def.inputs),
    outputs: ports(e.outputs, def.outputs),
    priority: e.priority,
    module: e.module,
    process: e.process,
    rateHz,
  };
}

const list = (o: object) => Object.keys(o).join(', ') || '(none)';

function connect(stages: Stage[]): Map<string, Topic> {
  const topics = new Map<string, Topic>();
  const topic = (name: string, type: string) => {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = { name, type, publishers: [], subscribers: [] }));
    return t;
  };
  for (const s of stages) {
    for (const o of s.outputs) {
      const t = topic(o.topic, o.spec.type);
      if (t.type !== o.spec.type) throw mismatch(s, o, t, stages);
      t.publishers.push({ stage: s.index, port: o.port });
    }
  }
  for (const s of stages) {
    for (const i of s.inputs) {
      const t = topic(i.topic, i.spec.type);
      if (t.type !== i.spec.type) throw mismatch(s, i, t, stages);
      t.subscribers.push({ stage: s.index, port: i.port });
    }
    for (const b of s.entity.ros2) {
      const t = topics.get(b.topic);
      if (!t) continue;
      if (t.type.startsWith('xauto/')) {
        throw new GraphError(
          s.entity.portPos[b.port] ?? s.entity.pos,
          `port '${s.name}.${b.port}' is ${t.type}, which has no ROS2 message definition; only ROS2 message types (pkg/msg/Type) can be bound with ros2: ${b.dir}`,
        );
      }
      t.ros2 = { dir: b.dir, qos: b.qos };
    }
  }
  return topics;
}

function mismatch(s: Stage, p: StagePort, t: Topic, stages: Stage[]): GraphError {
  const other = t.publishers[0] ?? t.subscribers[0]!;
  const o = stages[other.stage]!;
  return new GraphError(
    s.entity.portPos[p.port] ?? s.entity.pos,
    `type mismatch on topic '${t.name}': '${s.name}.${p.port}' is ${p.spec.type} but '${o.name}.${other.port}' is ${t.type}`,
  );
}

function checkInputs(stages: Stage[], topics: Map<string, Topic>): void {
  for (const s of stages) {
    for (const [port, spec] of Object.entries(s.def.inputs)) {
      if (spec.optional) continue;
      const bound = s.inputs.find((i) => i.port === port);
      if (!bound) {
        throw new GraphError(s.entity.pos, `required input '${port}' (${spec.type}) of '${s.name}' is not connected; expected inputs: {${port}: TOPIC}`);
      }
      const t = topics.get(bound.topic)!;
      if (t.publishers.length === 0 && t.ros2?.dir !== 'in') {
        throw new GraphError(
          s.entity.portPos[port] ?? s.entity.pos,
          `input '${port}' of '${s.name}' subscribes to '${bound.topic}', which nothing publishes (no xnode output, no ros2: in binding)`,
        );
      }
    }
  }
}

function topoOrder(stages: Stage[], topics: Map<string, Topic>): number[] {
  const next = stages.map(() => new Set<number>());
  const indeg = stages.map(() => 0);
  for (const t of topics.values()) {
    for (const p of t.publishers) {
      for (const c of t.subscribers) {
        if (stages[c.stage]!.def.inputs[c.port]!.latched) continue; // latched inputs never wait
        if (!next[p.stage]!.has(c.stage)) {
          next[p.stage]!.add(c.stage);
          indeg[c.stage]!++;
        }
      }
    }
  }
  const order: number[] = [];
  const ready = stages.filter((s) => indeg[s.index] === 0).map((s) => s.index);
  while (ready.length) {
    const i = ready.shift()!;
    order.push(i);
    for (const j of next[i]!) if (--indeg[j]! === 0) ready.push(j);
  }
  if (order.length < stages.length) {
    const cycle = findCycle(next, indeg);
    const first = stages[cycle[0]!]!;
    throw new GraphError(
      first.entity.pos,
      `cycle ${[...cycle, cycle[0]!].map((i) => stages[i]!.name).join(' -> ')}; a feedback edge must go into a latched input (declared delay)`,
    );
  }
  return order;
}

function findCycle(next: Set<number>[], indeg: number[]): number[] {
  // Every node left with indegree > 0 lies on or behind a cycle: walk until a node repeats.
  let i = indeg.findIndex((d) => d > 0);
  const seen = new Map<number, number>();
  const path: number[] = [];
  while (!seen.has(i)) {
    seen.set(i, path.length);
    path.push(i);
    i = [...next[i]!].find((j) => indeg[j]! > 0)!;
  }
  return path.slice(seen.get(i));
}
