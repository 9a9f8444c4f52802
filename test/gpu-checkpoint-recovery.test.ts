// Crash recovery with real processes: a pipeline (tracker with host state, occupancy map with
// device state) checkpoints at frame boundaries, is killed with SIGKILL, and a new process
// resumes from the last committed checkpoint; every frame it publishes from then on equals,
// field for field, the uninterrupted run's (same track ids), and so does the final map.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FRAMES = 160;

function run(args: string[], killAfterFrames?: number): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', 'test/gpu-checkpoint-pipeline-child.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let committed = false;
    let frames = 0;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      committed ||= /committed \d+/.test(out);
      frames = (out.match(/^frame /gm) ?? []).length;
      if (killAfterFrames !== undefined && committed && frames >= killAfterFrames) child.kill('SIGKILL');
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ lines: out.split('\n'), killed: true });
      else if (code === 0) resolve({ lines: out.split('\n'), killed: false });
      else reject(new Error(`child exited ${code ?? signal}: ${err}`));
    });
  });
}

const framesOf = (lines: string[]) => new Map(lines.filter((l) => l.startsWith('frame ')).map((l) => [Number(l.split(' ')[1]), l.slice(l.indexOf('{'))]));

test('kill -9, then resume from the last checkpoint: later frames equal the uninterrupted run field for field', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'xauto-recover-'));
  const dir = join(base, 'ckpt');
  const whole = await run([join(base, 'none'), String(FRAMES)]);
  const want = framesOf(whole.lines);
  t.is(want.size, FRAMES);

  const first = await run([dir, String(FRAMES), '--every', '0.05'], 60);
  t.true(first.killed, 'the first process was killed mid-run');
  const second = await run([dir, String(FRAMES), '--restore', '--every', '0.05']);
  const start = Number(/start (\d+)/.exec(second.lines.join('\n'))![1]);
  t.true(start > 0 && start < FRAMES, `resumed at frame ${start}`);
  const got = framesOf(second.lines);
  t.is(got.size, FRAMES - start);
  let same = 0;
  for (const [k, v] of got) if (v === want.get(k)) same++;
  t.is(same, got.size, 'every frame after the restore equals the uninterrupted run');
  const ids = new Set([...got.values()].flatMap((v) => (JSON.parse(v) as { tracks: { detections: Array<{ id: string }> } }).tracks.detections.map((d) => d.id)));
  t.true(ids.size > 0, 'tracks were published');
  const grid = (lines: string[]) => lines.find((l) => l.startsWith('grid '));
  t.is(grid(second.lines), grid(whole.lines), 'the occupancy map ends the same');
  rmSync(base, { recursive: true, force: true });
});
