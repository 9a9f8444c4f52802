// Where xauto's gain over the module baseline comes from, as a chain of plans that each
// change one thing of the one before:
//   module                     serialized messages, per-module exclusive groups, launch priorities
//   -> module-ipc-mt           the same without serialization            (step: serialization)
//   -> xauto order @ module    module placement, xauto's priorities, no
//                              per-module exclusion, no serialization    (step: order)
//   -> xauto                   xauto's placement too                     (step: placement)
// Each step's factor is the ratio of consecutive e2e p50s; their product is module/xauto, and
// a step's share is its factor's log over the total's log. The attribution depends on the
// chain's order (serialization first, placement last); it is a decomposition, not an
// interaction-free one.
import { moduleBaseline, moduleIpcBaseline } from './baseline.js';
import type { Assignment, CostModel } from './model.js';

export const gainChain = ['module', 'module-ipc-mt', 'xauto-order@module', 'xauto'] as const;
export type GainPlan = (typeof gainChain)[number];
export const gainSteps = ['serialization', 'order', 'placement'] as const;

/** The chain's assignments, given xauto's. */
export function gainAssignments(m: CostModel, xauto: Assignment): Record<GainPlan, Assignment> {
  const mod = moduleBaseline(m).assignment;
  return {
    module: mod,
    'module-ipc-mt': moduleIpcBaseline(m, 'multi').assignment,
    'xauto-order@module': { option: mod.option, priority: xauto.priority, serialize: false },
    xauto,
  };
}

export interface GainStep {
  step: (typeof gainSteps)[number];
  from: GainPlan;
  to: GainPlan;
  /** from p50 / to p50. */
  factor: number;
  /** Share of the total gain (log factor / log total); NaN when there is no gain to share. */
  share: number;
}

/** Splits module/xauto into its steps from the chain's e2e p50s. */
export function attributeGain(p50: Record<GainPlan, number>): GainStep[] {
  const total = Math.log(p50.module / p50.xauto);
  return gainSteps.map((step, k) => {
    const from = gainChain[k]!;
    const to = gainChain[k + 1]!;
    const factor = p50[from] / p50[to];
    return { step, from, to, factor, share: Math.abs(total) > 1e-9 ? Math.log(factor) / total : NaN };
  });
}
