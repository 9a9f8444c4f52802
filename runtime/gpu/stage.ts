// What a device implementation of a stage uses: the shared device and its stream for the
// stage's priority, scratch buffers that grow and are reused frame to frame, uploads counted
// as transfers, launch bookkeeping (preemptions and relaunches per stage), and the parallel
// primitives the perception kernels are built from (stable sort, exclusive scan).
import { counters } from '../trace/counters.js';
import type { DeviceBuffer, PreemptPolicy, Stream } from './device.js';
import type { KernelArgs } from './kernels.js';
import type { LaunchResult } from './launch.js';
import { acquireDevice, type DeviceLease } from './shared.js';
import { streamPriority } from './priority.js';
import { countTransfer, transferStart } from './tensor.js';

const SCAN = 256; // elements per scan block (kernels_perception_ops.h: kScan)

export interface StageDeviceStats {
  backend: string;
  launches: number;
  preemptions: number;
  relaunches: number;
  blocks_discarded: number;
  upload_bytes: number;
  download_bytes: number;
}

export class StageDevice {
  readonly lease: DeviceLease;
  readonly stream: Stream;
  private readonly scratch = new Map<string, DeviceBuffer>();
  private pending: Array<Promise<LaunchResult>> = [];
  private readonly u32 = new Uint32Array(1);
  readonly stats: StageDeviceStats;

  constructor(
    readonly stage: string,
    priority: number,
    policy: PreemptPolicy = 'wait',
  ) {
    this.lease = acquireDevice();
    this.stream = this.lease.stream(streamPriority(priority), policy);
    this.stats = { backend: this.device.backend, launches: 0, preemptions: 0, relaunches: 0, blocks_discarded: 0, upload_bytes: 0, download_bytes: 0 };
  }

  get device() {
    return this.lease.device;
  }

  /** Scratch buffer `name` with room for `bytes` (grown by half again when too small). */
  buf(name: string, bytes: number): DeviceBuffer {
    let b = this.scratch.get(name);
    if (!b || b.bytes < bytes) {
      b?.free();
      b = this.device.alloc(Math.max(64, Math.ceil(bytes * 1.5)));
      this.scratch.set(name, b);
    }
    return b;
  }

  /** Copies `src` into scratch buffer `name` (a transfer at the device's edge). */
  upload(name: string, src: ArrayBufferView): DeviceBuffer {
    const b = this.buf(name, src.byteLength);
    const t0 = transferStart();
    if (src.byteLength > 0) b.write(src);
    countTransfer('upload', src.byteLength, this.stage, t0);
    this.stats.upload_bytes += src.byteLength;
    return b;
  }

  /** Reads `dst.length` elements of `b` to the host (a transfer). */
  download<T extends Float32Array | Uint32Array | Float64Array>(b: DeviceBuffer, dst: T): T {
    const t0 = transferStart();
    if (dst.byteLength > 0) b.read(dst);
    countTransfer('download', dst.byteLength, this.stage, t0);
    this.stats.download_bytes += dst.byteLength;
    return dst;
  }

  /** One u32 read back (a count the next launches are sized by). */
  readCount(b: DeviceBuffer): number {
    return this.download(b, this.u32)[0]!;
  }

  /** Enqueues a launch on the stage's stream (in order with the stage's other launches). */
  launch(kernel: string, args: KernelArgs): void {
    this.pending.push(this.stream.launch(kernel, args).done);
  }

  /** Waits for every launch enqueued so far; adds their preemptions to the stage's counters. */
  async flush(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    for (const r of await Promise.all(p)) {
      this.stats.launches++;
      if (r.preemptions > 0) {
        this.stats.preemptions += r.preemptions;
        this.stats.relaunches += r.preemptions;
        counters.add(`gpu.preemptions.${this.stage}`, r.preemptions);
        counters.add(`gpu.relaunches.${this.stage}`, r.preemptions);
        this.stats.blocks_discarded += r.blocksRun - r.grid;
      }
    }
  }

  /**
   * Stable sort of (keys u64, values u32) pairs by key: merge passes of doubling width, each
   * from one buffer pair into the other. Returns the pair holding the result.
   */
  sortPairs(n: number, keys: DeviceBuffer, idx: DeviceBuffer): { keys: DeviceBuffer; idx: DeviceBuffer } {
    let k = keys, v = idx;
    let k2 = this.buf('sort.keys', n * 8), v2 = this.buf('sort.idx', n * 4);
    for (let width = 1; width < n; width *= 2) {
      this.launch('merge_pass', { n, width, kin: k, iin: v, kout: k2, iout: v2 });
      [k, k2] = [k2, k];
      [v, v2] = [v2, v];
    }
    return { keys: k, idx: v };
  }

  /** y = exclusive scan of x (u32, n elements); returns the buffer that will hold the total. */
  scan(n: number, x: DeviceBuffer, y: DeviceBuffer): DeviceBuffer {
    const nb = Math.max(1, Math.ceil(n / SCAN));
    const sums = this.buf('scan.sums', nb * 4), offs = this.buf('scan.offs', nb * 4), total = this.buf('scan.total', 4);
    this.launch('scan_blocks', { n, nb, x, sums });
    this.launch('scan_sums', { nb, sums, offs, total });
    this.launch('scan_apply', { n, nb, x, offs, y });
    return total;
  }

  /** How many of x[0, n) and y[0, n) differ (after the launches so far). */
  async differences(n: number, x: DeviceBuffer, y: DeviceBuffer): Promise<number> {
    const nb = Math.max(1, Math.ceil(n / SCAN));
    const out = this.buf('diff', nb * 4);
    this.launch('count_diff', { n, nb, x, y, out });
    const total = this.buf('diff.total', 4);
    this.launch('scan_sums', { nb, sums: out, offs: this.buf('diff.offs', nb * 4), total });
    await this.flush();
    return this.readCount(total);
  }

  /** The stage's section of the run summary. */
  summary(): Record<string, unknown> {
    return { ...this.stats };
  }

  close(): void {
    if (!this.device.isClosed) for (const b of this.scratch.values()) b.free();
    this.scratch.clear();
    this.lease.release();
  }
}
