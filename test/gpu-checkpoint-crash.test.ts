// kill -9 at random points while a real process checkpoints (kernels racing each epoch):
// the directory always restores to a committed epoch, bit for bit the state that epoch
// stands for, never an older one than the last the process reported, and a restarted
// process resumes from it and keeps checkpointing incrementally.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer, ImageError } from '../runtime/gpu/checkpoint.js';
import { Device } from '../runtime/gpu/index.js';
import { mulberry32 } from '../runtime/util/random.js';
import { initialBuffers, step } from './gpu-checkpoint-child.js';

const SEED = 17;

async function expected(epoch: number): Promise<Uint8Array[]> {
  const d = new Device();
  const bufs = initialBuffers(d);
  const s = d.stream();
  for (let k = 1; k <= epoch; k++) await Promise.all(step(s, bufs, SEED, k).map((l) => l.done));
  const out = bufs.map((b) => b.read(new Uint8Array(b.bytes)));
  d.close();
  return out;
}

/** Runs the child until `delayMs` after it is ready, then kills it; returns its last committed epoch. */
function runAndKill(dir: string, delayMs: number): Promise<{ ready: number; committed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', 'test/gpu-checkpoint-child.ts', dir, String(SEED)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = -1;
    let committed = -1;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      for (const m of out.matchAll(/committed (\d+)/g)) committed = Math.max(committed, Number(m[1]));
      const r = /ready (\d+)/.exec(out);
      if (r && ready < 0) {
        ready = Number(r[1]);
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code ?? signal}: ${err}`));
      else resolve({ ready, committed });
    });
  });
}

test('kill -9 at random points during checkpoints never yields an image that restores wrongly', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'xauto-crash-')), 'ckpt');
  const r = mulberry32(3);
  let last = 0;
  for (let round = 0; round < 6; round++) {
    const delay = 40 + Math.floor(r() * 400);
    const { ready, committed } = await runAndKill(dir, delay);
    t.is(ready, last, `round ${round}: the child resumed from the last committed epoch`);
    const d = new Device();
    let epoch = 0;
    try {
      const { image } = Checkpointer.restore(d, dir, { onDemand: false, verify: true });
      epoch = image.manifest.epoch;
      const want = await expected(epoch);
      const roots = image.manifest.buffers.filter((b) => !b.view);
      t.is(roots.length, want.length);
      roots.forEach((b, i) => t.deepEqual(image.buffers.get(b.handle)!.read(new Uint8Array(b.bytes)), want[i], `round ${round}: epoch ${epoch} buffer ${i}`));
    } catch (e) {
      if (!(e instanceof ImageError && e.reason === 'missing' && committed < 0 && last === 0)) throw e;
    }
    d.close();
    t.true(epoch >= committed && epoch >= last, `round ${round} (kill after ${delay} ms): restored epoch ${epoch}, the child reported ${committed}`);
    t.log(`round ${round}: killed ${delay} ms after ready at epoch ${ready}; restored epoch ${epoch}`);
    last = epoch;
  }
  t.true(last > 0, 'some epochs were committed');
  rmSync(dir, { recursive: true, force: true });
});
