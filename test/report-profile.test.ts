// `xauto profile`: real short runs of launch/hello.launch.yaml, the folder they write, and the
// report rendered by a real headless chromium.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import yargs from 'yargs';
import { profileCommand } from '../runtime/cli/profile.js';
import { fmt } from '../runtime/trace/html.js';
import type { RunSummary } from '../runtime/trace/report.js';

const root = new URL('..', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'xauto-report-'));

/** Runs `xauto profile ...` through its yargs command module, in this process. */
async function profile(args: string[]): Promise<void> {
  await yargs(['profile', ...args])
    .command(profileCommand)
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
}

const HELLO = join(root, 'launch', 'hello.launch.yaml');

interface Both {
  plans: Record<string, RunSummary>;
  comparison: { baseline: string; planned: string; p50: number; p90: number; p99: number };
}

let bothDir: Promise<string> | undefined;
/** One `--plan both` session shared by the tests that look at it. */
function both(): Promise<string> {
  bothDir ??= (async () => {
    const dir = tmp();
    await profile([HELLO, '--plan', 'both', '--frames', '60', '--out', dir]);
    return dir;
  })();
  return bothDir;
}

test.serial('--plan both writes report.html, summary.json and trace.json with both plans', async (t) => {
  const dir = await both();
  for (const f of ['report.html', 'summary.json', 'trace.json']) t.true(existsSync(join(dir, f)), f);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Both;
  t.deepEqual(Object.keys(s.plans), ['xauto', 'module']);
  for (const p of Object.values(s.plans)) {
    t.is(p.frames.completed, 60);
    t.is(p.e2e_ms.count, 57, 'the first 3 frames settle unmeasured');
    t.deepEqual(p.check, { frames: 60, wrong: 0 });
    t.deepEqual(p.stages.map((x) => x.name), ['source', 'scale', 'check']);
  }
  t.is(s.comparison.baseline, 'module');
  t.is(s.comparison.planned, 'xauto');
  t.is(s.comparison.p50, s.plans.module!.e2e_ms.p50 / s.plans.xauto!.e2e_ms.p50);
  t.is(s.comparison.p99, s.plans.module!.e2e_ms.p99 / s.plans.xauto!.e2e_ms.p99);

  // The trace holds both measured runs (warm-up runs and each run's 3 settling frames are not
  // traced): 57 frames x 3 stages each.
  const trace = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')) as { traceEvents: Array<{ name: string; cat: string; ph: string; pid: number; args?: { name?: string } }> };
  const names = trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
  for (const plan of ['xauto', 'module']) {
    t.true(names.includes(`${plan}: queue waits`), plan);
    t.true(names.includes(`${plan}: xpu main`), plan);
  }
  const runs = trace.traceEvents.filter((e) => e.cat === 'run' && e.ph === 'X');
  t.is(runs.length, 2 * 3 * 57);
  t.is(new Set(runs.map((e) => e.pid)).size, 2);
});

test.serial('the report has every section, the summary numbers, SVG plots and a timeline with frame numbers', async (t) => {
  const dir = await both();
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Both;
  t.true(html.startsWith('<!DOCTYPE html>'));
  for (const id of ['comparison', 'e2e', 'plan-xauto', 'plan-module', 'paths-xauto', 'paths-module', 'time-xauto', 'time-module']) t.true(html.includes(`<section id="${id}">`), id);
  for (const caption of [
    'Histogram', 'Cumulative distribution', 'Per frame, in completion order', 'Run time per stage', 'Queue wait per stage', 'XPU utilisation',
    'Mean end-to-end time per path, by part', 'The same, by hop', 'Slowest frames', 'Run time of each stage over the run', 'Run time distribution per stage',
    'XPU busy share over the run', 'Frames lost or late over the run',
  ]) {
    t.true(html.includes(caption), caption);
  }
  // Headline ratio as computed from the two summaries.
  t.true(html.includes(`p50 ${s.comparison.p50.toFixed(2)}×`), 'p50 ratio');
  t.true(html.includes(`p99 ${s.comparison.p99.toFixed(2)}×`), 'p99 ratio');
  // The summary's numbers appear in the tables.
  for (const [plan, p] of Object.entries(s.plans)) {
    const e = p.e2e_ms;
    t.true(html.includes(`<td>${plan}: all sinks</td><td class="n">57</td><td class="n">${fmt(e.mean)}</td><td class="n">${fmt(e.p50)}</td><td class="n">${fmt(e.p90)}</td><td class="n">${fmt(e.p99)}</td>`), plan);
    for (const st of p.stages) {
      const l = st.latency_ms;
      const row = `<td>${st.name}</td><td>${st.type}</td><td>${st.impl}@${st.xpu}</td><td class="n">${st.runs}</td><td class="n">${st.drops}</td><td class="n">${st.errors}</td><td class="n">${fmt(l.p50)}</td><td class="n">${fmt(l.p90)}</td><td class="n">${fmt(l.p99)}</td>`;
      t.true(html.includes(row), `${plan} ${st.name}`);
    }
  }
  t.true(html.includes('<td>frames</td><td class="n">60</td>'), 'the check section');
  // Charts are inline SVG; the timeline has one bar per run in the window, with hover titles.
  const svgs = html.match(/<svg\b/g) ?? [];
  t.true(svgs.length >= 11, `${svgs.length} svg elements`);
  const titles = [...html.matchAll(/<title>(\w+), frame (\d+): /g)];
  t.true(titles.length >= 2 * 3 * 5, `${titles.length} timeline bars`);
  t.deepEqual(new Set(titles.map((m) => m[1])), new Set(['source', 'scale', 'check']));
  t.true(html.includes('>real</span> <b>main</b>'), 'XPUs marked real');
});

test.serial('--plan all runs xauto and every baseline; the report and the summary compare each baseline with xauto', async (t) => {
  const dir = tmp();
  await profile([HELLO, '--plan', 'all', '--frames', '20', '--warmup', '0', '--out', dir]);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Both & { comparisons: Both['comparison'][] };
  t.deepEqual(Object.keys(s.plans), ['xauto', 'module', 'module-ipc', 'module-ipc-mt']);
  t.deepEqual(s.comparisons.map((c) => [c.baseline, c.planned]), [['module', 'xauto'], ['module-ipc', 'xauto'], ['module-ipc-mt', 'xauto']]);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  for (const c of s.comparisons) {
    t.is(c.p50, s.plans[c.baseline]!.e2e_ms.p50 / s.plans.xauto!.e2e_ms.p50);
    t.true(html.includes(`${c.baseline}/xauto: <b class="big">p50 ${c.p50.toFixed(2)}×`), c.baseline);
    t.true(html.includes(`<th>${c.baseline}: impl@xpu</th>`), `${c.baseline} placements`);
  }
  // A comma list names the plans; a wrong name is refused before anything runs.
  await t.throwsAsync(profile([HELLO, '--plan', 'xauto,modul', '--frames', '5', '--out', tmp()]), { message: /--plan xauto,modul: expected .*comma-separated list/ });
});

test.serial('the report is self-contained: nothing external is referenced', async (t) => {
  const html = readFileSync(join(await both(), 'report.html'), 'utf8');
  t.notRegex(html, /https?:/i);
  t.notRegex(html, /\b(src|href)\s*=/i);
  t.notRegex(html, /<(script|link|iframe|img|object|embed)\b/i);
  t.notRegex(html, /@import|url\(/i);
});

/** Decodes an 8-bit RGB/RGBA PNG (what chromium writes) into its pixels. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('expected 8-bit, non-interlaced');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

if (!CHROMIUM) console.log(process.env.CI ? 'chromium is not installed: failing, CI must render the report' : 'skipped: chromium is not installed (apt-get install -y chromium)');

(!CHROMIUM && !process.env.CI ? test.serial.skip : test.serial)('a real headless chromium renders the report: text, charts and timeline are on the page', async (t) => {
  if (!CHROMIUM) return t.fail('chromium is not installed (apt-get install -y chromium); CI must render the report');
  const dir = await both();
  const png = join(dir, 'shot.png');
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${mkdtempSync(join(tmpdir(), 'xauto-chromium-'))}`,
    `--screenshot=${png}`,
    '--window-size=1280,2000',
    '--enable-logging=stderr',
    '--v=0',
    `file://${join(dir, 'report.html')}`,
  ];
  const log = await new Promise<string>((resolve, reject) =>
    execFile(CHROMIUM, args, { timeout: 90_000 }, (err, _out, stderr) => (err && !existsSync(png) ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stderr))),
  );
  // The page has no script: any console message (an error, a blocked resource) is a fault.
  // Chromium's own pages (source chrome://…, e.g. its slow-network note) are not the report's.
  t.deepEqual(log.split('\n').filter((l) => /:CONSOLE/.test(l) && !/source: chrome:\/\//.test(l)), [], 'no console messages');
  t.true(existsSync(png));
  t.true(statSync(png).size > 20_000, `${statSync(png).size} bytes`);
  const { width, height, channels, pixels } = decodePng(readFileSync(png));
  t.is(width, 1280);
  t.is(height, 2000);
  let ink = 0;
  let colour = 0;
  for (let i = 0; i < pixels.length; i += channels) {
    const r = pixels[i]!;
    const g = pixels[i + 1]!;
    const b = pixels[i + 2]!;
    if (Math.min(r, g, b) < 160) ink++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) colour++;
  }
  const n = width * height;
  // Text and axes: well over 1% of the page is dark; bars and lines in colour: over 0.5%.
  t.true(ink / n > 0.01, `dark pixels ${((ink / n) * 100).toFixed(2)}%`);
  t.true(colour / n > 0.005, `coloured pixels ${((colour / n) * 100).toFixed(2)}%`);
});

test.serial('--plan default: one run, summary.json is its RunSummary, no comparison section', async (t) => {
  const dir = tmp();
  await profile([HELLO, 'work_us:=50', '--plan', 'default', '--frames', '30', '--warmup', '0', '--out', dir]);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  t.is(s.plan, 'default');
  t.is(s.frames.completed, 30);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  t.false(html.includes('<section id="comparison">'));
  t.true(html.includes('<section id="plan-default">'));
  t.true(html.includes('work_us:=50'));
  t.true(html.includes('30 frames per source'));
});

test.serial('user errors in arguments are one clear line, before anything runs', async (t) => {
  const dir = tmp();
  const cases: Array<[string[], RegExp]> = [
    [['--frames', '0'], /--frames 0: expected a positive whole number/],
    [['--plan', 'fastest'], /--plan fastest: expected xauto, module, module-ipc, module-ipc-mt, default, a PLAN\.json file, a comma-separated list of them, both or all/],
    [['--frames', '5', '--duration', '2'], /expected one of them, not both/],
    [['work_us=5'], /malformed launch argument 'work_us=5', expected format '<name>:=<value>'/],
    [['--warmup', '-1'], /--warmup -1: expected a whole number/],
    [['--frames', '5', '--out', join(root, 'package.json')], /package\.json: is a file; expected a folder/],
  ];
  for (const [extra, message] of cases) {
    const e = await t.throwsAsync(profile([HELLO, ...extra, ...(extra.includes('--out') ? [] : ['--out', dir])]));
    t.regex(e!.message, message);
  }
  t.false(existsSync(join(dir, 'report.html')));
});
