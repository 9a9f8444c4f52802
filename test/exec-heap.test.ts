import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MAIN_HEAP_FLAG, MAIN_HEAP_MB, mainHeapSized, watchGc } from '../runtime/exec/heap.js';
import { packageRoot } from '../runtime/util/paths.js';

const root = packageRoot();

test('the heap counts as sized only with an initial old generation of at least MAIN_HEAP_MB', (t) => {
  t.true(mainHeapSized([MAIN_HEAP_FLAG]));
  t.true(mainHeapSized(['--import=tsx', `--initial-old-space-size=${MAIN_HEAP_MB * 2}`]));
  t.false(mainHeapSized([`--initial-old-space-size=${MAIN_HEAP_MB / 2}`]));
  t.false(mainHeapSized(['--max-old-space-size=4096']));
  t.false(mainHeapSized([]));
});

test('bin/xauto, the bench script and the test runner start node with the main heap sized', (t) => {
  t.is(readFileSync(join(root, 'bin', 'xauto.mjs'), 'utf8').split('\n')[0], `#!/usr/bin/env -S node ${MAIN_HEAP_FLAG}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { bench: string }; ava: { nodeArguments: string[] } };
  t.true(pkg.scripts.bench.split(' ').includes(MAIN_HEAP_FLAG));
  t.true(pkg.ava.nodeArguments.includes(MAIN_HEAP_FLAG));
  t.true(mainHeapSized(), 'this test process itself');
});

test("bin/xauto's #! line reaches node: a program that starts with it has the flag in its execArgv", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-heap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const program = join(dir, 'probe.mjs');
  writeFileSync(program, `${readFileSync(join(root, 'bin', 'xauto.mjs'), 'utf8').split('\n')[0]}\nconsole.log(process.execArgv.join(' '));\n`);
  chmodSync(program, 0o755);
  const run = spawnSync(program, { encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout.trim(), MAIN_HEAP_FLAG);
});

test('watchGc counts the main thread scavenges and major GCs with their pauses', async (t) => {
  const lines: string[] = [];
  const w = watchGc((l) => lines.push(l));
  t.deepEqual(lines, [], 'sized: nothing to say');
  // Short-lived garbage well past the young generation's size: scavenges.
  let keep = 0;
  for (let round = 0; round < 40; round++) {
    const batch: Array<{ i: number; s: string }> = [];
    for (let i = 0; i < 50_000; i++) batch.push({ i, s: `frame ${i}` });
    keep += batch.length;
  }
  // A major GC, forced through the GC extension of a fresh context.
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  // Node makes each GC's entry on the next turn of the event loop.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const g = await w.stop();
  t.true(keep > 0);
  t.true(g.minor >= 1, `minor ${g.minor}`);
  t.true(g.major >= 1, `major ${g.major}`);
  t.true(g.major_ms > 0 && g.max_pause_ms > 0);
  t.true(g.heap_sized);
});
