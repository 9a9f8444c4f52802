// What the executor runs: where each stage goes. Planners (runtime/schedule) produce these.
import type { Graph } from '../graph/graph.js';
import { runsOn, type XpuInfo } from '../xpu/types.js';

export interface StagePlacement {
  impl: string;
  xpu: string;
  /** Dispatch priority on its XPU: higher runs first. */
  priority: number;
  /**
   * Stages with the same group never run at the same time, like the callbacks of one ROS2
   * node under a single-threaded executor (the module-level baseline sets it per module).
   */
  group?: string;
  /**
   * Timers (sources, timer-driven stages): when frame 0 is due after the run's origin (ms,
   * within the period). The planner staggers timers of one period so that their callbacks do
   * not all become ready at the same instant; absent, 0 (ROS2: timers start together).
   */
  phaseMs?: number;
}

export interface ExecPlan {
  name: string;
  /** By stage index. */
  placements: StagePlacement[];
  /**
   * Serialize messages (CDR) on edges between stages of different modules, as between ROS2
   * nodes; the module-level baseline runs this way.
   */
  serializeBetweenModules?: boolean;
}

/** Where a stage can run: every (allowed implementation, real XPU) pair, in preference order. */
export function candidates(graph: Graph, stage: number, xpus: XpuInfo[]): StagePlacement[] {
  const s = graph.stages[stage]!;
  const out: StagePlacement[] = [];
  for (const impl of s.impls) {
    for (const x of xpus) if (x.real && runsOn(impl, x)) out.push({ impl: impl.name, xpu: x.id, priority: s.priority });
  }
  return out;
}

/** The plan with no planning: each stage's first allowed implementation on its first XPU. */
export function defaultPlan(graph: Graph, xpus: XpuInfo[]): ExecPlan {
  return {
    name: 'default',
    placements: graph.stages.map((s) => {
      const c = candidates(graph, s.index, xpus)[0];
      if (!c) {
        throw new Error(
          `no XPU on this host runs any allowed implementation of '${s.name}' (${s.impls.map((i) => `${i.name}:${i.backend}/${i.xpu}`).join(', ')})`,
        );
      }
      return c;
    }),
  };
}
