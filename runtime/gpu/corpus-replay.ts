// Replaying an application's launch sequence on one memory pool, as a framework's caching
// allocator lays it out: tensors are blocks (64-byte granules, best fit, freed blocks reused
// at once) of one large device allocation, and arguments are views of those blocks, or
// slices inside them. Every launch is run for real on the pool (so the data each instance
// sees is what the application would have there: post-ReLU activations, running statistics,
// optimizer state) and recorded, before it runs, as a corpus instance.
//
// An instance keeps only the blocks its arguments live in, copied into a fresh root at
// the same relative offsets within each block (blocks never overlap, so every overlap between
// arguments is preserved): a brute-force check then snapshots kilobytes instead of the pool.
import type { CorpusInstance } from './corpus.js';
import { extentBytes } from './corpus.js';
import type { Device, DeviceBuffer } from './device.js';

export interface AppInstance extends CorpusInstance {
  /** The model and step it came from, e.g. `mlp/sgd`. */
  model: string;
  /** The launch pattern, e.g. `relu in place`, `gemm beta=1 (accumulate)`. */
  pattern: string;
}

/** A tensor: `bytes` at `offset` (absolute, in the pool) inside allocator block `block`. */
export interface Tensor {
  readonly block: Block;
  readonly offset: number;
  readonly bytes: number;
}

interface Block {
  start: number;
  bytes: number;
  live: boolean;
}

const GRANULE = 64;

/** Best-fit caching allocator over [0, bytes) of one device allocation. */
export class CachingPool {
  private readonly blocks: Block[];

  constructor(readonly buffer: DeviceBuffer) {
    this.blocks = [{ start: 0, bytes: buffer.bytes, live: false }];
  }

  alloc(bytes: number): Tensor {
    const want = Math.max(GRANULE, Math.ceil(bytes / GRANULE) * GRANULE);
    let best = -1;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (!b.live && b.bytes >= want && (best < 0 || b.bytes < this.blocks[best]!.bytes)) best = i;
    }
    if (best < 0) throw new Error(`replay: pool of ${this.buffer.bytes} bytes exhausted (asked ${want})`);
    const b = this.blocks[best]!;
    if (b.bytes > want) this.blocks.splice(best + 1, 0, { start: b.start + want, bytes: b.bytes - want, live: false });
    b.bytes = want;
    b.live = true;
    return { block: b, offset: b.start, bytes };
  }

  /** Returns the tensor's block to the pool (merged with free neighbours); its bytes stay. */
  free(t: Tensor): void {
    t.block.live = false;
    for (let i = 0; i + 1 < this.blocks.length; ) {
      const a = this.blocks[i]!, b = this.blocks[i + 1]!;
      if (!a.live && !b.live) (a.bytes += b.bytes, this.blocks.splice(i + 1, 1));
      else i++;
    }
  }
}

/** A slice of a tensor: `bytes` from `at` bytes into it (a view a framework hands a kernel). */
export const slice = (t: Tensor, at: number, bytes: number): Tensor => ({ block: t.block, offset: t.offset + at, bytes });

type Arg = number | Tensor;

export class Replay {
  readonly pool: CachingPool;
  readonly out: AppInstance[] = [];
  private seq = 0;

  /** Launches run (and are counted) without being recorded: the application's own launch path. */
  launches = 0;

  constructor(
    private readonly device: Device,
    poolBytes: number,
    readonly model: string,
    private readonly record = true,
  ) {
    this.pool = new CachingPool(device.alloc(poolBytes));
  }

  tensor(floats: number, init?: Float32Array | Uint32Array): Tensor {
    const t = this.pool.alloc(floats * 4);
    if (init) this.pool.buffer.write(init, t.offset);
    return t;
  }

  write(t: Tensor, data: Float32Array | Uint32Array): void {
    this.pool.buffer.write(data, t.offset);
  }

  read(t: Tensor): Float32Array {
    return new Float32Array(this.pool.buffer.read(new Uint8Array(t.bytes), t.offset).buffer);
  }

  /** Records the launch as an instance, then runs it on the pool. */
  launch(kernel: string, pattern: string, args: Record<string, Arg>): void {
    const k = this.device.kernel(kernel);
    const scalars: Record<string, number> = {};
    for (const [n, v] of Object.entries(args)) if (typeof v === 'number') scalars[n] = v;
    const live: Record<string, number | { handle: number; offset: number }> = { ...scalars };
    this.launches++;
    if (!this.record) {
      for (const [n, v] of Object.entries(args)) if (typeof v === 'object') live[n] = this.pool.buffer.at(v.offset);
      const grid = this.device.runBlocks(kernel, live, 0, 0);
      this.device.runBlocks(kernel, live, 0, grid);
      return;
    }
    const blocks = new Map<Block, number>();
    for (const p of k.params) {
      const v = args[p.name];
      if (p.kind !== 'buffer' || typeof v !== 'object') continue;
      const need = extentBytes(p, scalars);
      if (v.offset + need > v.block.start + v.block.bytes) throw new Error(`replay ${this.model}: ${kernel}.${p.name} needs ${need} bytes past its block`);
      live[p.name] = this.pool.buffer.at(v.offset);
      blocks.set(v.block, 0);
    }
    // Relocate the blocks contiguously into the instance's own root.
    let at = 0;
    for (const b of blocks.keys()) (blocks.set(b, at), (at += b.bytes));
    const root = this.device.alloc(Math.max(at, GRANULE));
    for (const [b, to] of blocks) root.write(this.pool.buffer.read(new Uint8Array(b.bytes), b.start), to);
    const inst: Record<string, number | { handle: number; offset: number }> = { ...scalars };
    const where: string[] = [];
    const views = new Map<Block, DeviceBuffer>();
    for (const p of k.params) {
      const v = args[p.name];
      if (p.kind !== 'buffer' || typeof v !== 'object') continue;
      const to = blocks.get(v.block)!;
      let view = views.get(v.block);
      if (!view) views.set(v.block, (view = root.view(to, v.block.bytes)));
      inst[p.name] = view.at(v.offset - v.block.start);
      where.push(`${p.name}@${v.offset}`);
    }
    const shape = Object.entries(scalars).map(([n, v]) => `${n}=${v}`).join(',');
    this.out.push({
      id: `${this.model}#${this.seq++} ${kernel}(${shape}) ${where.join(',')}`,
      kernel,
      layout: where.join(','),
      roots: [root],
      args: inst,
      model: this.model,
      pattern,
    });
    const grid = this.device.runBlocks(kernel, live, 0, 0);
    this.device.runBlocks(kernel, live, 0, grid);
  }

  /** Frees the pool (the recorded instances keep their own roots). */
  close(): AppInstance[] {
    this.pool.buffer.free();
    return this.out;
  }
}
