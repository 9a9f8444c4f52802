// Hostile launch files end in one positioned error, never a stack overflow, an
// `Invalid string length`, a read of a device or FIFO, or quadratic time.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLaunchFile, LaunchError } from '../../runtime/launch/index.js';
import { writeLaunch } from '../launch-helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function positioned(t: import('ava').ExecutionContext, file: string, re: RegExp): LaunchError {
  const e = t.throws(() => loadLaunchFile(file), { instanceOf: LaunchError })!;
  t.regex(e.detail, re);
  t.true(e.pos.line >= 1 && e.pos.column >= 1, e.message);
  return e;
}

test('20,000 nested groups (XML and YAML) are refused at the group past the depth limit', (t) => {
  const n = 20_000;
  const xml = writeLaunch('deep.launch.xml', `<launch>\n${'<group>'.repeat(n)}${'</group>'.repeat(n)}\n</launch>\n`);
  const e = positioned(t, xml, /nested more than 200 levels deep/);
  t.is(e.pos.line, 2);
  let yaml = 'launch:\n';
  for (let i = 0; i < 400; i++) yaml += `${'  '.repeat(i)}- group:\n`;
  positioned(t, writeLaunch('deep.launch.yaml', yaml), /nested more than 200 levels deep|malformed YAML/);
  const flow = writeLaunch('deepflow.launch.yaml', `launch: ${'[{group: '.repeat(n)}${'}]'.repeat(n)}\n`);
  positioned(t, flow, /nested more than 200 levels deep|malformed YAML/);
});

test('20,000 nested `$(var `, a 100k-term $(eval) sum and 20k parentheses are refused with positions', (t) => {
  positioned(t, writeLaunch('vars.launch.xml', `<launch><let name="x" value="${'$(var '.repeat(20_000)}"/></launch>`), /substitutions nested more than 64 deep/);
  const sum = Array(100_000).fill('1').join('+');
  positioned(t, writeLaunch('sum.launch.xml', `<launch><let name="x" value="$(eval '${sum}')"/></launch>`), /eval: expression (longer than|with more than)/);
  positioned(t, writeLaunch('parens.launch.xml', `<launch><let name="x" value="$(eval '${'('.repeat(20_000)}1${')'.repeat(20_000)}')"/></launch>`), /eval: expression (nested more than 200 levels deep|longer than 10000 tokens)/);
  positioned(t, writeLaunch('parens2.launch.xml', `<launch><let name="x" value="$(eval '${'('.repeat(300)}1${')'.repeat(300)}')"/></launch>`), /eval: expression nested more than 200 levels deep/);
});

test("$(eval \"'a'*99999999999\") and 30 doubling lets are refused instead of building huge strings", (t) => {
  positioned(t, writeLaunch('rep.launch.xml', `<launch><let name="x" value="$(eval &quot;'a'*99999999999&quot;)"/></launch>`), /result longer than 1048576/);
  let lets = '<launch><let name="v0" value="aaaaaaaaaaaaaaaa"/>';
  for (let i = 1; i <= 30; i++) lets += `<let name="v${i}" value="$(var v${i - 1})$(var v${i - 1})"/>`;
  positioned(t, writeLaunch('double.launch.xml', `${lets}</launch>`), /value longer than 1048576 characters/);
});

test('param from= must be a regular file of bounded size: a directory, /dev/zero and a FIFO are refused before reading', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-from-'));
  const fifo = join(dir, 'fifo');
  const mk = spawnSync('mkfifo', [fifo]);
  const cases: Array<[string, RegExp]> = [
    [dir, /is a directory; expected a regular file/],
    ['/dev/zero', /is not a regular file/],
  ];
  if (mk.status === 0) cases.push([fifo, /is not a regular file/]);
  else t.log('mkfifo not available: FIFO case skipped');
  for (const [from, re] of cases) {
    const f = writeLaunch('from.launch.xml', `<launch>\n  <xnode name="a" type="t/a"><param from="${from}"/></xnode>\n</launch>\n`);
    const e = positioned(t, f, re);
    t.is(e.pos.line, 2);
  }
});

test('a 40k-key YAML mapping is read in linear time and a duplicate key keeps its positioned error', (t) => {
  const keys = Array.from({ length: 40_000 }, (_, i) => `    k${i}: ${i}`);
  keys.push('    k17: again');
  const params = writeLaunch('many.params.yaml', `/**:\n  ros__parameters:\n${keys.join('\n')}\n`);
  const e = positioned(t, writeLaunch('many.launch.yaml', `launch:\n  - xnode: {name: a, type: t/a, param: [{from: ${params}}]}\n`), /duplicate key 'k17' \(first at line 20, column 5\)/);
  t.is(e.pos.line, 40_003);
  t.true(e.pos.file.endsWith('many.params.yaml'));
});

test('huge numbers: --print writes int64 exactly, beyond-int64 and overflowing values as rcl reads them; priority out of range is an error', (t) => {
  const f = writeLaunch(
    'huge.launch.xml',
    `<launch><xnode name="a" type="t/a"><param name="big" value="9223372036854775807"/><param name="over" value="100000000000000000000000"/><param name="inf" value="1.0e+999"/><param name="e999" value="1e999"/></xnode></launch>`,
  );
  const x = loadLaunchFile(f).xnodes[0]!;
  t.deepEqual(x.params, { big: '9223372036854775807', over: 1e23, inf: Infinity, e999: '1e999' });
  t.like(x.paramTypes, { big: 'int', over: 'double', inf: 'double', e999: 'string' });
  positioned(t, writeLaunch('prio.launch.yaml', 'launch:\n  - xnode: {name: a, type: t/a, priority: 100000000000000000000000}\n'), /invalid priority 1000000000000000000000000?\.\.\.|invalid priority 1e\+23|expected an integer from -1000000 to 1000000/);
});

test('$(eval) through a launch argument: __proto__, constructor and toString are not names (positioned, exit 2, no stack trace)', async (t) => {
  for (const model of ["x' + __proto__(1) + '", "x' + constructor + '", "' + toString() + '"]) {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import=tsx', 'runtime/cli/main.ts', 'launch', 'launch/perception.launch.yaml', `model:=${model}`, '--print'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => resolve({ code, err }));
    });
    t.is(r.code, 2, r.err);
    t.regex(r.err, /perception\.launch\.yaml:\d+:\d+: eval: (unknown function|name) '(__proto__|constructor|toString)'/);
    t.notRegex(r.err, /\n\s+at /);
  }
});

test('a huge file is refused before it is read', (t) => {
  const big = join(mkdtempSync(join(tmpdir(), 'xauto-big-')), 'big.launch.yaml');
  writeFileSync(big, `launch: []\n${'#'.repeat(17 << 20)}\n`);
  positioned(t, big, /bytes; expected at most 16777216 bytes/);
});
