// The nice each stage's jobs run at on threads, for a run on real time: core/reserve.ts
// decides it (stages ranked below a paced stage run niced), this checks that threads may go
// back up (CAP_SYS_NICE) and says once what the run does.
import type { Graph } from '../graph/graph.js';
import { threadNiceAllowed } from '../util/thread-nice.js';
import { BULK_NICE, isPacedSpec, PACED_NICE, threadNice } from './core/reserve.js';
import type { Topology } from './core/types.js';
import type { StagePlacement } from './plan.js';

/** Per stage, its nice (none listed: every stage at 0). */
export function threadPriorities(graph: Graph, topo: Topology, placements: readonly StagePlacement[], log: (line: string) => void): number[] {
  const isPaced = topo.stages.map(isPacedSpec);
  const nice = threadNice(isPaced.map((paced, i) => ({ paced, priority: placements[i]!.priority })));
  const below = nice.filter((n) => n > 0).length;
  if (below === 0) return [];
  const paced = graph.stages.filter((s) => nice[s.index] === PACED_NICE).map((s) => s.name);
  if (!threadNiceAllowed()) {
    log(`[exec] thread priorities unchanged: a thread that lowers its priority may go back up only with CAP_SYS_NICE, which this process lacks; ${paced.join(', ')} and ${below} lower-ranked stages share the cores at equal weight`);
    return [];
  }
  log(`[exec] thread priorities: ${paced.join(', ')} runs its jobs at nice ${PACED_NICE} and ${below} stages ranked below it at nice ${BULK_NICE}, on pool and native threads (the event loop stays at 0)`);
  return nice;
}
