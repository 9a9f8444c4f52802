// Bounded fuzzing of launch files: mutations of the shipped and fixture launch files (fixed
// seeds) must each end in a description or one positioned LaunchError (what the CLI prints
// with exit 2) — never another exception, a stack trace, a hang or unbounded memory.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./launch-fuzz-cases.ts', import.meta.url));

function run(seed: number, count: number, emitDir?: string): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // A heap limit turns unbounded memory into a failed child; the timeout turns a hang into one.
    const p = spawn(process.execPath, ['--max-old-space-size=384', '--import=tsx', child, repo, String(seed), String(count), ...(emitDir ? [emitDir] : [])], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 100_000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

for (const seed of [1, 2, 3]) {
  test(`launch-file fuzz, seed ${seed}: 100 mutated files each end in a description or a positioned error`, async (t) => {
    const r = await run(seed, 100);
    t.is(r.signal, null, `the fuzz child was killed (hang or memory): ${r.err.slice(-500)}`);
    t.is(r.code, 0, r.err.slice(-2000));
    const res = JSON.parse(r.out.trim().split('\n').pop()!) as { cases: number; outcomes: Record<string, number>; failures: string[] };
    t.log(`seed ${seed}: ${res.cases} cases: ${res.outcomes.ok} read, ${res.outcomes.positioned} positioned errors, ${res.failures.length} other`);
    t.deepEqual(res.failures, []);
    t.is(res.outcomes.ok! + res.outcomes.positioned!, res.cases);
  });
}

test('launch-file fuzz through the command line: `xauto launch --print` on mutated files exits 0, or 2 with one file:line:col line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-fuzz-cli-'));
  const r = await run(4, 6, dir);
  t.is(r.code, 0, r.err.slice(-2000));
  const files = readdirSync(dir).filter((f) => f.startsWith('fuzz-')).sort();
  t.is(files.length, 6);
  for (const f of files) {
    const c = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import=tsx', join(repo, 'runtime/cli/main.ts'), 'launch', join(dir, f), '--print'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => resolve({ code, err }));
    });
    t.true(c.code === 0 || c.code === 2, `${f}: exit ${c.code}\n${c.err}`);
    if (c.code === 2) t.regex(c.err, /^xauto: [^\n]+:\d+:\d+: [^\n]+\n$/, f);
    t.notRegex(c.err, /\n\s+at /, f);
  }
});
