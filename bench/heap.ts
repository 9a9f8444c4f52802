// What sizing the main thread's heap (runtime/exec/heap.ts) buys the perception pipeline at its
// sensors' rates: `xauto launch` as a user runs it (planning in the process, from the cached
// profile, so every run gets the same plan: checked), in processes of its own, node started
// with MAIN_HEAP_FLAG or without it, alternating round by round. Each process runs one full GC
// as it starts (what a long-running launch has had after its first minutes, or `xauto profile`
// after profiling): V8 then sets its limits from the small live heap, the regime a pipeline
// lives in; without it a short run may end before its first major GC, sized or not. Ratios are
// unsized ÷ sized, medians over the rounds; the spread is printed.
// Args: [--seconds S] [--rounds R]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN_HEAP_FLAG } from '../runtime/exec/heap.js';
import { table } from '../runtime/trace/report.js';

const FILE = 'launch/perception.launch.yaml';
const GC_AT_START = ['--expose-gc', '--import=data:text/javascript,globalThis.gc()'];
type Summary = { stages: Array<{ name: string; impl: string; xpu: string }>; e2e_ms: { count: number; p50: number; p90: number; p99: number; max: number }; gc?: { major: number; major_ms: number; marking_ms: number; max_pause_ms: number } };

function node(flags: string[], args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--import=tsx', 'runtime/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`xauto ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (v: number) => v.toFixed(2);

export default async function main(args: string[]): Promise<void> {
  const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
  const seconds = opt('--seconds', 8);
  const rounds = opt('--rounds', 4);
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-heap-'));
  try {
    process.stderr.write(`bench heap: profiling ${FILE} if its profile is not cached yet\n`);
    await node([MAIN_HEAP_FLAG], ['plan', FILE]);
    const loadBefore = loadavg()[0]!;
    const runs: Record<'sized' | 'unsized', Summary[]> = { sized: [], unsized: [] };
    const rows = [['round', 'heap', 'frames', 'e2e p50', 'p90', 'p99', 'max', 'major GCs', 'GC pause + marking ms', 'longest pause ms']];
    for (let r = 0; r < rounds; r++) {
      const order: Array<'sized' | 'unsized'> = r % 2 ? ['unsized', 'sized'] : ['sized', 'unsized'];
      for (const heap of order) {
        process.stderr.write(`bench heap: round ${r + 1}/${rounds}, ${heap} heap, ${seconds} s at the sensors' rates\n`);
        const out = join(dir, `${heap}-${r}.json`);
        await node([...GC_AT_START, ...(heap === 'sized' ? [MAIN_HEAP_FLAG] : [])], ['launch', FILE, '--duration', String(seconds), '--summary-json', out]);
        const s = JSON.parse(readFileSync(out, 'utf8')) as Summary;
        if (!s.gc) throw new Error(`${out}: no gc section in the run summary`);
        runs[heap].push(s);
        const e = s.e2e_ms;
        rows.push([String(r + 1), heap, String(e.count), f(e.p50), f(e.p90), f(e.p99), f(e.max), String(s.gc.major), f(s.gc.major_ms + s.gc.marking_ms), f(s.gc.max_pause_ms)]);
      }
    }
    const placement = (s: Summary) => s.stages.map((x) => `${x.name}=${x.impl}@${x.xpu}`).join(' ');
    const plans = new Set([...runs.sized, ...runs.unsized].map(placement));
    const ratio = (k: 'p50' | 'p90' | 'p99') => runs.sized.map((s, i) => runs.unsized[i]!.e2e_ms[k] / s.e2e_ms[k]);
    const [r50, r90, r99] = [ratio('p50'), ratio('p90'), ratio('p99')];
    const spread = (xs: number[]) => `${f(Math.min(...xs))}..${f(Math.max(...xs))}`;
    process.stdout.write(
      `perception at its sensors' rates (${seconds} s per run, load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after); the main thread's heap sized with ${MAIN_HEAP_FLAG} or not; one full GC at each process's start\n` +
        `${table(rows, 2)}\n` +
        `${plans.size === 1 ? 'one plan in every run' : `${plans.size} different plans (the profile changed between runs)`}: ${[...plans][0]}\n` +
        `unsized / sized, per round: e2e p50 ${spread(r50)}, p90 ${spread(r90)}, p99 ${spread(r99)}\n`,
    );
    const majors = (h: 'sized' | 'unsized') => runs[h].reduce((n, s) => n + s.gc!.major, 0);
    const perSecond = (h: 'sized' | 'unsized') => Math.round((100 * majors(h)) / (rounds * seconds)) / 100;
    const round3 = (v: number) => Math.round(v * 1000) / 1000;
    console.log(
      JSON.stringify({
        bench: 'heap',
        e2e_p50_ratio_unsized_over_sized: round3(median(r50)),
        e2e_p90_ratio_unsized_over_sized: round3(median(r90)),
        e2e_p99_ratio_unsized_over_sized: round3(median(r99)),
        major_gcs_per_s_sized: perSecond('sized'),
        major_gcs_per_s_unsized: perSecond('unsized'),
        same_plan: plans.size === 1,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
