// `xauto profile diff`: sessions made of seeded synthetic series (so the test never depends on
// timing): an identical rerun is within the noise everywhere, a 2x slowdown of one stage is
// called slower for that stage and the paths through it, and nothing else; the figures are
// the same on every run (seeded bootstrap); the page is self-contained.
import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDiff } from '../runtime/cli/diff.js';
import { diffSessions, type SessionSamples } from '../runtime/trace/diff.js';
import { mulberry32 } from '../runtime/util/random.js';

/** Run times like real ones: log-normal around a median, with a tail. */
function session(seed: number, slow: Record<string, number> = {}, n = 400): SessionSamples {
  const rnd = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const median = { pre: 1.5, detect: 8, post: 0.4 } as Record<string, number>;
  const stages: Record<string, number[]> = {};
  for (const [s, m] of Object.entries(median)) stages[s] = Array.from({ length: n }, () => m * (slow[s] ?? 1) * Math.exp(0.25 * normal()));
  const e2e = Array.from({ length: n }, (_, i) => stages.pre![i]! + stages.detect![i]! + stages.post![i]! + 0.2);
  return { stages, paths: { 'camera → pre → detect → post': e2e }, e2e };
}

function folder(s: SessionSamples): string {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-diff-'));
  writeFileSync(join(dir, 'samples.json'), JSON.stringify({ plans: { xauto: s } }));
  return dir;
}

const verdicts = (rows: ReturnType<typeof diffSessions>) => Object.fromEntries(rows.map((r) => [`${r.kind}:${r.name}`, r.verdict]));

test('an identical rerun is within the noise; a 2x slowdown of one stage is called slower, for it and the paths through it only', (t) => {
  const a = session(1);
  const rerun = session(2);
  const slowed = session(3, { detect: 2 });
  t.deepEqual(verdicts(diffSessions(a, rerun)), {
    'stage:pre': 'within noise',
    'stage:detect': 'within noise',
    'stage:post': 'within noise',
    'path:camera → pre → detect → post': 'within noise',
    'end-to-end:all sinks': 'within noise',
  });
  const rows = diffSessions(a, slowed);
  t.deepEqual(verdicts(rows), {
    'stage:pre': 'within noise',
    'stage:detect': 'slower',
    'stage:post': 'within noise',
    'path:camera → pre → detect → post': 'slower',
    'end-to-end:all sinks': 'slower',
  });
  const detect = rows.find((r) => r.name === 'detect')!;
  t.true(detect.ci[0] < 2 && detect.ci[1] > 2, `the interval ${detect.ci.join('–')} holds the injected 2x`);
  t.true(detect.ci[0] > 1.5);
  // Seeded: the same inputs give the same figures.
  t.deepEqual(diffSessions(a, slowed), rows);
  // Faster is the mirror image.
  t.is(diffSessions(slowed, a).find((r) => r.name === 'detect')!.verdict, 'faster');
});

test('runDiff prints a table and writes a self-contained page; folders without samples are refused', async (t) => {
  const a = folder(session(1));
  const b = folder(session(3, { detect: 2 }));
  const lines: string[] = [];
  const { html } = await runDiff({ a, b, noise: 0.05, seed: 1 }, (l) => lines.push(l));
  t.regex(lines.join('\n'), /stage: detect\s+\d\.\d+\s+1\d\.\d+\s+2\.\d+\s+\S+\s+slower/);
  t.is(html, join(b, 'diff.html'));
  const page = readFileSync(html, 'utf8');
  t.true(page.startsWith('<!DOCTYPE html>'));
  t.regex(page, /1<\/b> change|3<\/b> changes/);
  t.true(page.includes('<svg'));
  t.notRegex(page, /https?:|\b(src|href)\s*=|<script\b|url\(/i);
  const empty = mkdtempSync(join(tmpdir(), 'xauto-diff-'));
  mkdirSync(join(empty, 'x'));
  await t.throwsAsync(runDiff({ a: empty, b, noise: 0.05, seed: 1 }), { message: /no samples\.json; expected a folder written by 'xauto profile'/ });
  await t.throwsAsync(runDiff({ a, b, plan: 'module', noise: 0.05, seed: 1 }), { message: /--plan module: not in both sessions/ });
});
