// Which joining stages align their trigger inputs by source frame number: those whose trigger
// inputs all descend from sources of one rate (frame k of each meets), none fed from outside
// the graph (ROS2 carries no source frame numbers), and that did not ask for the latest message on
// each instead (at the sources' rates). A timer-driven stage is a source of its own frames. Fast mode: every source
// counts as one rate.
import type { Topology } from './types.js';

export function decideSync(topo: Topology, fast: boolean): number[] {
  const publishers = new Map<string, number[]>();
  for (let k = 0; k < topo.stages.length; k++) {
    for (const o of topo.stages[k]!.outputs) {
      let l = publishers.get(o.topic);
      if (!l) publishers.set(o.topic, (l = []));
      l.push(k);
    }
  }
  const memo = new Map<number, Set<number>>(); // stage -> sources upstream of it
  const upstream = (stage: number): Set<number> => {
    let set = memo.get(stage);
    if (set) return set;
    set = new Set();
    memo.set(stage, set);
    const st = topo.stages[stage]!;
    if (st.inputs.length === 0 || st.periodMs > 0) set.add(stage);
    for (const i of st.inputs) {
      if (i.latched) continue;
      if (i.external) set.add(-1);
      for (const p of publishers.get(i.topic) ?? []) for (const x of upstream(p)) set.add(x);
    }
    return set;
  };
  const out: number[] = [];
  topo.stages.forEach((st, k) => {
    const triggers = st.inputs.filter((i) => !i.latched && !i.optional);
    // Fast mode is lossless: a `latest` join there pairs frames too (dropping the older ones
    // could leave a branch waiting for a partner frame that never comes).
    if (triggers.length < 2 || (st.join === 'latest' && !fast)) return;
    const srcs = [...upstream(k)];
    if (srcs.includes(-1) || srcs.length === 0) return;
    const rates = new Set(srcs.map((x) => (fast ? 0 : topo.stages[x]!.rateHz)));
    if (rates.size === 1) out.push(k);
  });
  return out;
}
