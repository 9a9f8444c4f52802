// `xauto launch FILE --migrate STAGE@WHEN[:PROCESS]`: live migration of a stateful stage to
// another process of the launch while the rest keeps running (exec/migrate.ts). WHEN is
// seconds after the run began (`2`, `2s`) or a frame (`f30`: frames from 30 on run there).
// PROCESS may be one the launch file names or a new one, which xauto starts to hold the
// stage; without it, the launch's one other process.
import type { Graph } from '../graph/index.js';
import type { MigrationSpec } from '../exec/migrate.js';
import { UserError } from './errors.js';

export interface MigrateRequest {
  stage: string;
  atMs?: number;
  atFrame?: number;
  to?: string;
}

export function parseMigrate(spec: string): MigrateRequest {
  const m = /^([^@:\s]+)@(?:(\d+(?:\.\d+)?)s?|f(\d+))(?::([A-Za-z_]\w*))?$/.exec(spec);
  if (!m) throw new UserError(`--migrate ${spec}: expected STAGE@SECONDS[:PROCESS] or STAGE@fFRAME[:PROCESS] (e.g. tracker@2:spare, tracker@f30)`);
  return { stage: m[1]!, atMs: m[2] !== undefined ? Number(m[2]) * 1000 : undefined, atFrame: m[3] !== undefined ? Number(m[3]) : undefined, to: m[4] };
}

/** The move asked for, checked against the graph (exit 2 with the reason when it cannot be done). */
export function planMigration(graph: Graph, spec: string): Omit<MigrationSpec, 'role'> {
  const r = parseMigrate(spec);
  const s = graph.stages.find((x) => x.name === r.stage);
  if (!s) throw new UserError(`--migrate ${spec}: no xnode '${r.stage}'; expected one of ${graph.stages.map((x) => x.name).join(', ')}`);
  const processes = [...new Set(graph.stages.map((x) => x.process))];
  const others = processes.filter((p) => p !== s.process);
  const to = r.to ?? (others.length === 1 ? others[0] : undefined);
  if (!to) throw new UserError(`--migrate ${spec}: name the process to move '${s.name}' to (STAGE@WHEN:PROCESS; this launch has ${others.length ? `processes ${others.join(', ')} besides '${s.process}'` : `only '${s.process}': a new name starts a process for it`})`);
  if (to === s.process) throw new UserError(`--migrate ${spec}: '${s.name}' already runs in process '${to}'`);
  if (s.inputs.length === 0) throw new UserError(`--migrate ${spec}: '${s.name}' is a source; only stages fed by topics move`);
  for (const i of s.inputs) {
    const t = graph.topics.get(i.topic)!;
    if (i.spec.latched || i.spec.optional) throw new UserError(`--migrate ${spec}: input '${i.port}' of '${s.name}' is latched or optional; what it holds does not move yet`);
    if (t.ros2?.dir === 'in') throw new UserError(`--migrate ${spec}: input '${i.port}' of '${s.name}' comes from ROS2; only inputs fed inside the launch move`);
    const away = [...t.publishers, ...t.subscribers].filter((p) => graph.stages[p.stage]!.process !== s.process);
    if (away.length) throw new UserError(`--migrate ${spec}: topic ${t.name} (input of '${s.name}') already crosses processes; only a stage whose inputs come from its own process moves`);
  }
  for (const o of s.outputs) {
    const t = graph.topics.get(o.topic)!;
    const away = [...t.publishers, ...t.subscribers].filter((p) => graph.stages[p.stage]!.process !== s.process);
    if (away.length) throw new UserError(`--migrate ${spec}: topic ${t.name} (output of '${s.name}') already crosses processes; only a stage whose outputs stay in its own process moves`);
  }
  return { stage: s.index, from: s.process, to, atMs: r.atMs, atFrame: r.atFrame };
}
