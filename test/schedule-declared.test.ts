// Declared (simulated) boards, and the `xauto plan` / `xauto xpu list` commands on them.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planJson, renderPlan, runPlan } from '../runtime/cli/plan.js';
import { listXpus, renderXpus } from '../runtime/cli/xpu.js';
import { UserError } from '../runtime/cli/errors.js';
import { DeclaredError, loadDeclaredBoard } from '../runtime/xpu/declared.js';

const dir = mkdtempSync(join(tmpdir(), 'xauto-declared-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** Captures what a command prints on stdout. */
async function stdout(fn: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = orig;
  }
  return chunks.join('');
}

test('the shipped board profile declares simulated XPUs with latencies', (t) => {
  const b = loadDeclaredBoard('profiles/board.yaml');
  t.deepEqual(b.xpus.map((x) => x.id), ['cpu', 'gpu', 'npu0', 'npu1']);
  t.true(b.xpus.every((x) => !x.real && x.backend === 'sim'));
  t.deepEqual(b.latency['detect/detector']!.npu, { p50: 10.5, p90: 11.5 });
  t.true(b.transfer.gpu!.latencyMs > 0 && b.transfer.gpu!.msPerMB > 0);
  t.is(b.contention['camera/preprocess'], 0.12, 'memory-bound stages declare their slowdown on the shared DRAM');
});

test('board profile errors say where and what was expected', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['board: b\nxpus:\n  - {id: cpu, kind: cpu, lanes: 0}\nlatency: {}\n', /:3:\d+: xpu 'cpu': lanes: expected a number >= 1/],
    ['board: b\nxpus:\n  - {id: cpu, kind: cpu}\nlatency:\n  demo/scale: {tpu: 3}\n', /:5:16: latency\.demo\/scale: 'tpu' is neither an XPU id nor a kind/],
    ['board: b\nxpus:\n  - {id: cpu, kind: cpu}\nlatency:\n  demo/scale: {cpu: [3, 1]}\n', /:5:\d+: latency\.demo\/scale\.cpu: p90 must be >= p50/],
    ['board: b\nxpus: []\nlatency: {}\n', /:2:7: xpus: expected a list/],
    ['board: b\nxpu: []\n', /:2:1: unknown key 'xpu'/],
    ['board: [\n', /:\d+:\d+: YAML: /],
    ['board: b\nxpus:\n  - {id: cpu, kind: cpu}\nlatency: {}\ncontention:\n  demo/scale: -1\n', /:6:\d+: contention\.demo\/scale: expected a number >= 0/],
  ];
  for (const [text, re] of cases) {
    const f = write('bad.yaml', text);
    const e = t.throws(() => loadDeclaredBoard(f), { instanceOf: DeclaredError });
    t.true(e!.message.startsWith(f + ':'), e!.message);
    t.regex(e!.message, re);
  }
});

test('xpu list shows real and declared XPUs, marked', async (t) => {
  const xpus = await listXpus(['profiles/board.yaml'], 1);
  t.true(xpus.some((x) => x.id === 'main' && x.real));
  t.true(xpus.some((x) => x.id === 'npu1' && !x.real));
  const text = renderXpus(xpus);
  t.regex(text, /main\s+cpu\s+main\s+1\s+real/);
  t.regex(text, /npu0\s+npu\s+sim\s+1\s+simulated/);
  await t.throwsAsync(() => listXpus([join(dir, 'missing.yaml')]), { instanceOf: UserError, message: /missing\.yaml:1:1: cannot read the profile: ENOENT/ });
});

test('xauto plan on a declared board prints the three predictions, all simulated', async (t) => {
  const board = write(
    'small.yaml',
    [
      'board: small',
      'xpus:',
      '  - {id: big, kind: cpu, lanes: 1}',
      '  - {id: little, kind: cpu, lanes: 1}',
      'latency:',
      '  demo/counter: {big: 0.2, little: 0.4}',
      '  demo/scale: {big: 6, little: 9}',
      '  demo/check: {big: 0.1, little: 0.2}',
      'bytes: {demo/counter: 4096, demo/scale: 4096}',
      'serialize: {latency_us: 100, gb_per_s: 1}',
    ].join('\n'),
  );
  const launch = write(
    'two.launch.yaml',
    [
      'launch:',
      '- xnode: {name: src, type: demo/counter, outputs: {out: /a}, param: [{name: rate, value: 20.0}]}',
      '- xnode: {name: left, type: demo/scale, module: m1, inputs: {in: /a}, outputs: {out: /l}}',
      '- xnode: {name: right, type: demo/scale, module: m1, inputs: {in: /a}, outputs: {out: /r}}',
      '- xnode: {name: lsink, type: demo/check, module: m2, inputs: {in: /l}}',
      '- xnode: {name: rsink, type: demo/check, module: m2, inputs: {in: /r}}',
    ].join('\n'),
  );
  const args = { file: launch, launchArgs: [], xpus: [board], json: false, reprofile: false, frames: 100, xnodes: [] };
  let cmp: Awaited<ReturnType<typeof runPlan>> | undefined;
  const text = await stdout(async () => (cmp = await runPlan(args as never)));
  t.regex(text, /declared hardware \(small; every XPU simulated\)/);
  t.regex(text, /^xauto\s+\d/m);
  t.regex(text, /^module baseline\s+\d/m);
  t.regex(text, /^lower bound \(critical path\)\s+\d/m);
  // XAUTO splits the two heavy branches over both XPUs; the module baseline runs m1 on one.
  const c = cmp!;
  const xpuOf = (plan: typeof c.xauto.plan, i: number) => plan.placements[i]!.xpu;
  t.not(xpuOf(c.xauto.plan, 1), xpuOf(c.xauto.plan, 2));
  t.is(xpuOf(c.module.plan, 1), xpuOf(c.module.plan, 2));
  t.true(c.module.sim.e2e.p50 > c.xauto.sim.e2e.p50);
  t.true(c.xauto.sim.e2e.p50 >= c.bound.p50 - 1e-9);
  t.is(renderPlan(launch, c), text.trimEnd());
  const json = planJson(launch, c) as { placements: unknown[]; simulated: boolean; module: { placements: unknown[] } };
  t.is(json.placements.length, 5);
  t.true(json.simulated);
  // A stage type the board does not describe is a clear user error.
  const partial = write('partial.yaml', 'board: p\nxpus:\n  - {id: big, kind: cpu}\nlatency:\n  demo/counter: {big: 0.2}\n');
  await t.throwsAsync(() => stdout(() => runPlan({ ...args, xpus: [partial] } as never)), { instanceOf: UserError, message: /no latency on these XPUs for: left, right, lsink, rsink/ });
});
