// Which plan `xauto launch --plan` runs: a planner's (xauto, module), the default, or a file.
import { existsSync, readFileSync } from 'node:fs';
import type { Graph } from '../graph/index.js';
import type { ExecOptions } from '../exec/executor.js';
import { defaultPlan, type ExecPlan } from '../exec/plan.js';
import type { XpuInfo } from '../xpu/types.js';
import { UserError } from './errors.js';

export interface ChosenPlan {
  plan: ExecPlan;
  fallback?: ExecOptions['fallback'];
  codec?: ExecOptions['codec'];
}

export async function choosePlan(
  graph: Graph,
  xpus: XpuInfo[],
  spec: string,
  _opts: { reprofile?: boolean; workers?: number; log: (l: string) => void },
): Promise<ChosenPlan> {
  if (spec === 'default') return { plan: defaultPlan(graph, xpus) };
  if (spec.endsWith('.json')) {
    if (!existsSync(spec)) throw new UserError(`--plan ${spec}: no such file`);
    const plan = JSON.parse(readFileSync(spec, 'utf8')) as ExecPlan;
    if (!Array.isArray(plan.placements) || plan.placements.length !== graph.stages.length) {
      throw new UserError(`--plan ${spec}: expected {"name", "placements": [${graph.stages.length} x {impl, xpu, priority}]}`);
    }
    return { plan };
  }
  return { plan: defaultPlan(graph, xpus) };
}
