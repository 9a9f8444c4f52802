// Child process of launch-fuzz.test.ts: reads mutated launch files and reports, per case, how
// reading ended. Runs apart so that a hang or a heap blow-up shows as this process failing.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadLaunchFile, LaunchError } from '../../runtime/launch/index.js';
import { printable, toJson } from '../../runtime/cli/print.js';

// argv: REPO SEED COUNT [EMIT_DIR]: with EMIT_DIR, the mutated files are written there and kept.
const [, , repo, seedArg, countArg, emitDir] = process.argv;
const seed = Number(seedArg);
const count = Number(countArg);

/** mulberry32: a small seeded PRNG, so every case can be replayed from its seed. */
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ['$(', ')', "'", '"', '<', '>', '/>', '{', '}', '[', ']', ':', ': ', '- ', '\n', '  ', '\t', '#', '&', '&amp;', '&#0;', '$(var x)', '$(var ', "$(eval '1/0')", "$(eval '" + '('.repeat(300) + "')", '$(env NOPE)', '$(dirname)', '<group>', '</group>', '- group:', 'children:', '*a', '&a ', '!!str ', '~', 'null', '1e999', '9'.repeat(30), '-1', '\u0000', '\uFEFF', '\\', '$(find-pkg-share x)', '<include file="x.launch.xml"/>', 'from: /dev/zero', 'from="/dev/zero"'];

function mutate(text: string, r: () => number): string {
  let s = text;
  const n = r() < 0.6 ? 1 : 2 + Math.floor(r() * 2);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 20));
    else if (op === 1) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)]! + s.slice(at);
    else if (op === 2) {
      const len = Math.floor(r() * 60);
      s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    } else if (op === 3) s = s.slice(0, at);
    else if (op === 4) {
      const lines = s.split('\n');
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      s = lines.join('\n');
    } else s = s.replace(/\d+/, () => TOKENS[Math.floor(r() * TOKENS.length)]!);
  }
  return s;
}

// Shipped and fixture launch files, with what they include copied beside them.
const work = mkdtempSync(join(tmpdir(), 'xauto-fuzz-'));
cpSync(join(repo!, 'test/fixtures/launch'), join(work, 'fixtures'), { recursive: true });
cpSync(join(repo!, 'launch'), join(work, 'shipped'), { recursive: true });
const sources: string[] = [];
for (const dir of ['fixtures', 'fixtures/bad', 'shipped']) {
  for (const f of readdirSync(join(work, dir))) if (/\.(ya?ml|xml)$/.test(f) && statSync(join(work, dir, f)).isFile() && f.includes('launch')) sources.push(join(work, dir, f));
}
sources.sort();
// Mostly files that read: mutations of those reach deeper than mutations of broken ones.
const good = sources.filter((f) => !f.includes('/bad/'));
const bad = sources.filter((f) => f.includes('/bad/'));

const outcomes: Record<string, number> = { ok: 0, positioned: 0 };
const failures: string[] = [];
for (let c = 0; c < count; c++) {
  const r = rng(seed * 100_003 + c);
  const pool = r() < 0.75 ? good : bad;
  const src = pool[Math.floor(r() * pool.length)]!;
  const text = mutate(readFileSync(src, 'utf8'), r);
  if (emitDir) {
    writeFileSync(join(emitDir, `fuzz-${String(c).padStart(3, '0')}-${basename(src)}`), text);
    continue;
  }
  const file = join(src, '..', `fuzz-${c}-${basename(src)}`);
  writeFileSync(file, text);
  try {
    const desc = loadLaunchFile(file, { env: { ...process.env, AMENT_PREFIX_PATH: join(work, 'fixtures/fake_ament_prefix') } });
    toJson(printable(desc));
    outcomes.ok!++;
  } catch (e) {
    if (e instanceof LaunchError && e.pos.line >= 1 && e.pos.column >= 1 && /^[^\n]+:\d+:\d+: /.test(e.message) && !e.message.includes('\n    at ')) outcomes.positioned!++;
    else failures.push(`case ${c} (seed ${seed}, from ${basename(src)}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`.slice(0, 2000));
  } finally {
    rmSync(file, { force: true });
  }
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ seed, cases: count, sources: sources.length, outcomes, failures }) + '\n');
