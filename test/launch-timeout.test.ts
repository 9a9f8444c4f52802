// A per-xnode `timeout` (seconds) in YAML and XML launch files: range-checked with the
// position of the value, and the deadline the executor gives that stage's runs.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { Executor, launchTimeouts } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { loadLaunchFile, LaunchError } from '../runtime/launch/index.js';
import { XNodeRegistry, defineXNode } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const dir = mkdtempSync(join(tmpdir(), 'xauto-timeout-'));
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const yaml = (v: string) => `launch:\n  - xnode:\n      name: a\n      type: t/a\n      timeout: ${v}\n  - xnode:\n      name: b\n      type: t/b\n`;
const xml = (v: string) => `<launch>\n  <xnode name="a" type="t/a" timeout="${v}"/>\n  <xnode name="b" type="t/b"/>\n</launch>\n`;

for (const [ext, text, line, column] of [['yaml', yaml, 5, 16], ['xml', xml, 2, 39]] as const) {
  test(`${ext}: timeout is seconds per xnode; absent means derived from the profile`, (t) => {
    const d = loadLaunchFile(write(`ok.launch.${ext}`, text('0.25')), { env: {} });
    t.is(d.xnodes.find((x) => x.name === 'a')!.timeoutS, 0.25);
    t.is(d.xnodes.find((x) => x.name === 'b')!.timeoutS, undefined);
    t.is(loadLaunchFile(write(`sub.launch.${ext}`, text('$(var t)').replace(ext === 'yaml' ? 'launch:\n' : '<launch>\n', ext === 'yaml' ? 'launch:\n  - arg: {name: t, default: "2"}\n' : '<launch>\n  <arg name="t" default="2"/>\n')), { env: {} }).xnodes[0]!.timeoutS, 2);
  });

  for (const bad of ['0', '-1', 'soon', '1e9', 'NaN', 'Infinity']) {
    test(`${ext}: timeout ${bad} is refused at its position with the range`, (t) => {
      const f = write(`bad.launch.${ext}`, text(bad));
      const e = t.throws(() => loadLaunchFile(f, { env: {} }), { instanceOf: LaunchError });
      t.deepEqual([e!.pos.line, e!.pos.column], [line, column], e!.message);
      t.is(e!.detail, `invalid timeout '${bad}'; expected a number of seconds greater than 0 and at most 86400`);
    });
  }
}

test('an xnode timeout is the deadline of its runs (virtual time); other stages keep the derived one', async (t) => {
  const T = { type: 'xauto/Tensor' } as const;
  const reg = new XNodeRegistry().register(
    defineXNode({ type: 't/src', outputs: { out: T }, params: { rate: { type: 'float', default: 0 } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: { dims: [1], data: new Float32Array([f.seq]) } }) }] }),
    defineXNode({ type: 't/hang', inputs: { in: T }, impls: [{ name: 'js', xpu: 'cpu', backend: 'native', create: () => () => new Promise(() => {}) }] }),
  );
  const graph = buildGraph(
    describeXNodes([
      { name: 'src', type: 't/src', outputs: { out: '/a' }, impls: [] },
      { name: 'stuck', type: 't/hang', inputs: { in: '/a' }, impls: [], timeoutS: 0.04 },
    ]),
    reg,
  );
  const derived = (stage: number) => (stage === 0 ? 1234 : 5000);
  const timeout = launchTimeouts(graph, derived);
  t.is(timeout(1, { impl: 'js', xpu: 'native', priority: 0 }), 40);
  t.is(timeout(0, { impl: 'js', xpu: 'main', priority: 0 }), 1234);
  const xpus = await discoverXpus({ workers: 1 });
  const logs: string[] = [];
  const vm = new VirtualMachine();
  const costs = { runMs: (s: number) => (s === 1 ? 1000 : 0.1), decodeMs: () => 0, encodeMs: () => 0, transferMs: () => 0, usesCores: () => false, pinnedWorker: () => -1 };
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, frames: 2, virtual: { machine: vm, costs }, timeout, log: (l) => logs.push(l) });
  await ex.start();
  await ex.run();
  await ex.close();
  t.is(ex.report().stages[1]!.timeouts, 2);
  t.true(logs.some((l) => l.includes('within its deadline of 40 ms')), logs.join('\n'));
});
