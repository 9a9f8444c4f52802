import test from 'ava';
import { join } from 'node:path';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { buildModel, type Profile } from '../runtime/schedule/index.js';
import { placementKey } from '../runtime/schedule/profile.js';
import { packageRoot } from '../runtime/util/paths.js';
import type { XpuInfo } from '../runtime/xpu/types.js';

const xpus: XpuInfo[] = [
  { id: 'main', kind: 'cpu', backend: 'main', lanes: 1, real: true, note: '' },
  { id: 'pool', kind: 'cpu', backend: 'worker', lanes: 1, real: true, note: '' },
];

test('the model charges at most one slowdown per busy neighbour; the profile keeps what was measured', async (t) => {
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'hello.launch.yaml'));
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const measured = [2.3, 0.4, undefined];
  const stages = graph.stages.map((s, v) => {
    const out: Profile['stages'][number] = {};
    for (const impl of s.impls) for (const x of xpus) out[placementKey({ impl: impl.name, xpu: x.id })] = { p50: 1, samples: 1, contention: measured[v % 3] } as never;
    return out;
  });
  const profile: Profile = { host: 'test', simulated: false, cores: 2, stages, topics: {}, transfer: {}, measured: 0, cached: 0, failures: [] };
  const m = buildModel(graph, xpus, profile);
  t.true(m.stages.length >= 2);
  m.stages.forEach((s, v) => {
    for (const o of s.options) t.is(o.lat.contention, [1, 0.4, undefined][v % 3], `${s.name} ${o.impl}`);
  });
  t.is(Object.values(profile.stages[0]!)[0]!.contention, 2.3);
});
