// `xauto profile diff A B`: two saved profiling sessions (folders written by `xauto profile`)
// compared stage by stage, path by path and end to end, with bootstrap intervals; a terminal
// table and an HTML page.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { diffSessions, type DiffRow, type SessionSamples } from '../trace/diff.js';
import { renderDiffHtml } from '../trace/html-diff.js';
import { table } from '../trace/report.js';
import { UserError } from './errors.js';

export interface DiffArgs {
  a: string;
  b: string;
  /** Only this plan (default: every plan both sessions ran). */
  plan?: string;
  out?: string;
  /** Smallest relative change called a change. */
  noise: number;
  seed: number;
}

export function loadSamples(dir: string): Record<string, SessionSamples> {
  const file = join(dir, 'samples.json');
  if (!existsSync(dir)) throw new UserError(`${dir}: no such session folder`);
  if (!existsSync(file)) throw new UserError(`${dir}: no samples.json; expected a folder written by 'xauto profile' (run it again to get one)`);
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { plans?: Record<string, SessionSamples> };
    if (!j.plans || typeof j.plans !== 'object') throw new Error('no "plans" object');
    return j.plans;
  } catch (e) {
    throw new UserError(`${file}: not a samples file (${(e as Error).message})`);
  }
}

const f = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '-');

export function renderDiff(plan: string, rows: DiffRow[]): string {
  const out = [['', 'A p50 ms', 'B p50 ms', 'B/A', '95% interval', 'verdict']];
  for (const r of rows) out.push([`${r.kind === 'end-to-end' ? '' : `${r.kind}: `}${r.name}${r.kind === 'end-to-end' ? ' (end-to-end)' : ''}`, f(r.a.p50), f(r.b.p50), Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : '-', Number.isFinite(r.ci[0]) ? `${r.ci[0].toFixed(3)}-${r.ci[1].toFixed(3)}` : '-', r.verdict]);
  return `plan '${plan}':\n${table(out, 1)}`;
}

export async function runDiff(a: DiffArgs, out: (t: string) => void = (t) => process.stdout.write(t + '\n')): Promise<{ plans: Array<{ plan: string; rows: DiffRow[] }>; html: string }> {
  if (!(Number.isFinite(a.noise) && a.noise >= 0)) throw new UserError(`--noise ${a.noise}: expected a fraction (0.05: 5%)`);
  const A = loadSamples(resolve(a.a));
  const B = loadSamples(resolve(a.b));
  const common = Object.keys(A).filter((p) => p in B);
  const wanted = a.plan ? [a.plan] : common;
  for (const p of wanted) if (!(p in A) || !(p in B)) throw new UserError(`--plan ${p}: not in both sessions (A has ${Object.keys(A).join(', ')}; B has ${Object.keys(B).join(', ')})`);
  if (!wanted.length) throw new UserError(`no plan in both sessions (A has ${Object.keys(A).join(', ')}; B has ${Object.keys(B).join(', ')}); give --plan`);
  const plans = wanted.map((plan) => ({ plan, rows: diffSessions(A[plan]!, B[plan]!, { noise: a.noise, seed: a.seed }) }));
  for (const p of plans) out(renderDiff(p.plan, p.rows));
  const html = resolve(a.out ?? join(a.b, 'diff.html'));
  writeFileSync(html, await renderDiffHtml({ a: resolve(a.a), b: resolve(a.b), plans, noise: a.noise, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }));
  out(`xauto: diff written to ${html}`);
  return { plans, html };
}

export const diffCommand: CommandModule<object, DiffArgs> = {
  command: 'diff <a> <b>',
  describe: 'Compare two profiling sessions (folders) stage by stage and path by path, with bootstrap intervals',
  builder: (y: Argv) =>
    y
      .positional('a', { type: 'string', demandOption: true, describe: 'the first session folder (the baseline)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the second session folder' })
      .option('plan', { type: 'string', describe: 'only this plan (default: every plan both ran)' })
      .option('out', { type: 'string', describe: 'HTML page to write (default: B/diff.html)' })
      .option('noise', { type: 'number', default: 0.05, describe: 'smallest relative change called a change' })
      .option('seed', { type: 'number', default: 1, describe: 'bootstrap seed' }) as unknown as Argv<DiffArgs>,
  handler: async (a: ArgumentsCamelCase<DiffArgs>) => {
    await runDiff(a);
  },
};
