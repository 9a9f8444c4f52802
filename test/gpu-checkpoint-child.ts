// A process that checkpoints its device continually while kernels race each checkpoint, for
// the kill -9 test (gpu-checkpoint-crash.test.ts). State after epoch k = initial contents plus
// the launches of steps 1..k; step k+1's launches are in flight during epoch k's checkpoint.
// Run: node --import=tsx test/gpu-checkpoint-child.ts DIR SEED
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Checkpointer } from '../runtime/gpu/checkpoint.js';
import { Device, type DeviceBuffer, type Launch, type Stream } from '../runtime/gpu/index.js';
import { mulberry32 } from '../runtime/util/random.js';

export const CHUNK = 4096;
const SIZES = [64 << 10, 128 << 10, 32 << 10, 192 << 10];

/** The buffers (allocated in a fixed order, so handles repeat) with their initial contents. */
export function initialBuffers(d: Device): DeviceBuffer[] {
  return SIZES.map((bytes, i) => {
    const b = d.alloc(bytes);
    const f = new Float32Array(bytes / 4);
    for (let j = 0; j < f.length; j++) f[j] = ((j * 7 + i * 13) % 101) / 10 - 5;
    return b.write(f);
  });
}

/** Step k's launches over the buffers (some through views), deterministic in (seed, k). */
export function step(s: Stream, bufs: DeviceBuffer[], seed: number, k: number): Launch[] {
  const r = mulberry32(seed * 100003 + k);
  const pick = () => bufs[Math.floor(r() * bufs.length)]!;
  const span = (b: DeviceBuffer, maxElems: number) => {
    const n = 1 + Math.floor(r() * Math.min(maxElems, b.bytes / 4 - 1));
    const off = 4 * Math.floor(r() * (b.bytes / 4 - n + 1));
    return { n, off };
  };
  const out: Launch[] = [];
  for (let i = 0; i < 10; i++) {
    const kind = Math.floor(r() * 4);
    const b = pick();
    const { n, off } = span(b, 12000);
    if (kind === 0) out.push(s.launch('scale_inplace', { n, s: 0.5 + r(), x: b.at(off) }));
    else if (kind === 1) out.push(s.launch('clamp_inplace', { n, lo: -3, hi: 3, x: b.view(off, n * 4) }));
    else {
      const src = pick();
      const m = Math.min(n, src.bytes / 4);
      const soff = 4 * Math.floor(r() * (src.bytes / 4 - m + 1));
      if (kind === 2) out.push(s.launch('add_inplace', { n: m, a: b.at(off), b: src.at(soff) }));
      else out.push(s.launch('copy', { bytes: m * 4, src: src.at(soff), dst: b.at(off) }));
    }
  }
  return out;
}

async function main(dir: string, seed: number): Promise<void> {
  const d = new Device({ units: 2 });
  const s = d.stream();
  let ck: Checkpointer;
  let bufs: DeviceBuffer[];
  let k = 0;
  let loaded: Promise<void> = Promise.resolve();
  if (existsSync(dir)) {
    const r = Checkpointer.restore(d, dir, { onDemand: true });
    ck = r.checkpointer;
    k = r.image.manifest.epoch;
    loaded = r.image.loaded;
    // Roots in allocation order are the first handles of the image.
    bufs = r.image.manifest.buffers.filter((b) => !b.view).map((b) => r.image.buffers.get(b.handle)!);
  } else {
    bufs = initialBuffers(d);
    ck = new Checkpointer(d, { dir, chunkBytes: CHUNK });
  }
  console.log(`ready ${k}`);
  let pending = step(s, bufs, seed, ++k);
  // The first step's launches run during the on-demand restore; the engine takes no new
  // checkpoint until the background loader is done.
  await loaded;
  for (;;) {
    const e = ck.begin({ copierDelayUs: 200, meta: { step: k } });
    const next = step(s, bufs, seed, k + 1);
    await e.committed;
    console.log(`committed ${e.epoch}`);
    await Promise.all(pending.map((l) => l.done));
    pending = next;
    k++;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv[2]!, Number(process.argv[3]));
}
