// Checkpoint and restore of a device (native/device/src/checkpoint.h underneath) into the
// image format of checkpoint-image.ts.
//
//   const ck = new Checkpointer(device, { dir });
//   const epoch = ck.begin({ xnodes });   // t1: returns at once; launches keep running
//   await epoch.committed;                // chunks saved, files durable, commit record written
//
//   const { checkpointer, image } = Checkpointer.restore(device, dir);  // metadata only
//   // launches run now; each waits only for the chunks it touches
//   await image.loaded;
import { join } from 'node:path';
import { DeviceBuffer, type Device } from './device.js';
import {
  abandonEpoch,
  chunkFile,
  commitEpoch,
  findImage,
  ImageError,
  libraryHash,
  prepareEpoch,
  prune,
  type Manifest,
  type ManifestBuffer,
  writeBlobs,
} from './checkpoint-image.js';
import {
  checkpointAddon,
  SAVED_FIELDS,
  SLOT_FIELDS,
  type CheckpointMode,
  type NativeCheckpoint,
  type NativeCheckpointStats,
  type NativeEpochResult,
} from './checkpoint-native.js';

export { ImageError } from './checkpoint-image.js';
export type { Manifest } from './checkpoint-image.js';
export type { CheckpointMode } from './checkpoint-native.js';

export const DEFAULT_CHUNK_BYTES = 1 << 20;
const SLOT_SPAN = 16777216;

export interface CheckpointerOptions {
  /** Image directory. */
  dir: string;
  /** Bytes per chunk (a power of two >= 64); default 1 MiB. */
  chunkBytes?: number;
  /** Older epochs to keep whole when a new one commits (default none: only what the newest refers to). */
  retain?: () => number[];
}

export interface BeginOptions {
  /** Default `concurrent`; `stop-the-world` is the baseline. */
  mode?: CheckpointMode;
  /** Save only chunks written since the last committed epoch (default true). */
  incremental?: boolean;
  /**
   * XNODE host states (already encoded, runtime/xnode/state.ts), taken at the same cut; a
   * promise when some stages reach the cut after t1 (a rejection abandons the epoch).
   */
  xnodes?: Record<string, unknown> | Promise<Record<string, unknown>>;
  meta?: Record<string, unknown>;
  /**
   * Blobs to keep in the image (checkpoint-image.ts), by name: written in this epoch. Blobs of
   * the last committed epoch not named again are carried over (kept where they are).
   */
  blobs?: Record<string, Uint8Array>;
  /** Tests: microseconds the copier sleeps after each chunk, so launches race it. */
  copierDelayUs?: number;
}

export interface Epoch {
  epoch: number;
  parent: number;
  chunks: number;
  bytes: number;
  /** How long `begin` held the caller. */
  pauseUs: number;
  /** Resolves with the committed manifest; rejects (and nothing is committed) on failure. */
  committed: Promise<CommittedEpoch>;
}

export interface CommittedEpoch {
  manifest: Manifest;
  result: NativeEpochResult;
  /** Bytes of chunk data this epoch wrote. */
  bytesWritten: number;
}

export interface RestoreOptions {
  /** Load chunks on demand behind a background loader (default) or all before returning. */
  onDemand?: boolean;
  /** Check every chunk's checksum before anything changes (default: only when not on demand). */
  verify?: boolean;
  /** A specific epoch instead of the newest committed one. */
  epoch?: number;
  /** Older epochs the restored checkpointer keeps whole when it commits (CheckpointerOptions.retain). */
  retain?: () => number[];
  /** Tests: microseconds the background loader sleeps per chunk. */
  loaderDelayUs?: number;
}

export interface RestoredImage {
  manifest: Manifest;
  /** Every handle of the image, by handle number (roots and views). */
  buffers: Map<number, DeviceBuffer>;
  /** Time until launches could run. */
  metadataUs: number;
  /** Resolves when every chunk is loaded; rejects with the first load error. */
  loaded: Promise<void>;
  /** Newer epochs passed over because they were torn. */
  skipped: string[];
}

export function kernelLibraryHash(): string {
  return libraryHash(checkpointAddon().kernels());
}

export class Checkpointer {
  readonly native: NativeCheckpoint;
  readonly dir: string;
  readonly chunkBytes: number;
  private last: Manifest | undefined;
  private nextEpoch = 1;  // the engine's count: every begun epoch takes a number
  private inflight: Promise<unknown> | undefined;
  private readonly library = kernelLibraryHash();
  private readonly retain: (() => number[]) | undefined;

  constructor(
    readonly device: Device,
    opts: CheckpointerOptions,
  ) {
    this.dir = opts.dir;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.retain = opts.retain;
    this.native = new (checkpointAddon().NativeCheckpoint)(device.native, this.chunkBytes);
  }

  /** The manifest of the last epoch committed by (or restored into) this checkpointer. */
  get lastCommitted(): Manifest | undefined {
    return this.last;
  }

  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Takes the cut (t1) now. One epoch at a time. */
  begin(opts: BeginOptions = {}): Epoch {
    if (this.inflight) throw new Error('checkpoint: the previous epoch is not committed yet');
    const mode = opts.mode ?? 'concurrent';
    const next = this.nextEpoch;
    const incremental = (opts.incremental ?? true) && this.last !== undefined;
    const tmp = prepareEpoch(this.dir, next);
    let s;
    try {
      s = this.native.begin(mode, incremental, join(tmp, 'chunks.bin'), opts.copierDelayUs ?? 0);
    } catch (e) {
      abandonEpoch(this.dir, next);
      throw e;
    }
    this.nextEpoch = s.epoch + 1;
    if (s.epoch !== next) throw new Error(`checkpoint: the engine began epoch ${s.epoch}, expected ${next}`);
    const committed = this.native.wait().then(async (r) => {
      let xnodes: Record<string, unknown> | undefined;
      try {
        xnodes = await opts.xnodes;
      } catch (e) {
        abandonEpoch(this.dir, r.epoch);
        throw e;
      }
      return this.finish(r, { ...opts, xnodes });
    });
    this.inflight = committed;
    const clear = () => (this.inflight = undefined);
    committed.then(clear, clear);
    return { ...s, committed };
  }

  private async finish(r: NativeEpochResult, opts: BeginOptions & { xnodes?: Record<string, unknown> }): Promise<CommittedEpoch> {
    if (r.error) {
      abandonEpoch(this.dir, r.epoch);
      throw new Error(r.error);
    }
    if (r.parent !== 0 && r.parent !== this.last?.epoch) throw new Error(`checkpoint: epoch ${r.epoch} is incremental to ${r.parent}, not to the last committed`);
    const prev = new Map<number, ManifestBuffer>();
    if (r.parent !== 0 && this.last) for (const b of this.last.buffers) if (!b.view) prev.set(b.handle, b);
    const savedAt = new Map<number, Map<number, [number, number, number, number]>>();
    let bytesWritten = 0;
    for (let i = 0; i < r.saved.length; i += SAVED_FIELDS) {
      const [slot, chunk, offset, len, crc] = r.saved.subarray(i, i + SAVED_FIELDS) as unknown as number[];
      let m = savedAt.get(slot!);
      if (!m) savedAt.set(slot!, (m = new Map()));
      m.set(chunk!, [r.epoch, offset!, len!, crc!]);
      bytesWritten += len!;
    }
    const buffers: ManifestBuffer[] = [];
    for (let i = 0; i < r.slots.length; i += SLOT_FIELDS) {
      const [index, gen, isView, rootIndex, base, bytes] = r.slots.subarray(i, i + SLOT_FIELDS) as unknown as number[];
      const handle = gen! * SLOT_SPAN + index!;
      if (isView) {
        buffers.push({ handle, index: index!, gen: gen!, bytes: bytes!, view: { root: rootIndex!, offset: base! } });
        continue;
      }
      const n = Math.ceil(bytes! / this.chunkBytes);
      const here = savedAt.get(index!);
      const before = prev.get(handle);
      const chunks: Array<[number, number, number, number]> = [];
      for (let c = 0; c < n; c++) {
        const src = here?.get(c) ?? before?.chunks?.[c];
        if (!src) throw new Error(`checkpoint: chunk ${c} of buffer ${handle} is neither saved nor in epoch ${r.parent}`);
        chunks.push(src);
      }
      buffers.push({ handle, index: index!, gen: gen!, bytes: bytes!, chunks });
    }
    const manifest: Manifest = {
      format: 'xauto-checkpoint',
      version: 1,
      kernelLibrary: this.library,
      epoch: r.epoch,
      parent: r.parent,
      chunkBytes: this.chunkBytes,
      createdAt: new Date().toISOString(),
      buffers,
      xnodes: opts.xnodes ?? {},
      meta: opts.meta ?? {},
    };
    const blobs = { ...this.last?.blobs, ...(await writeBlobs(this.dir, r.epoch, opts.blobs ?? {})) };
    if (Object.keys(blobs).length) manifest.blobs = blobs;
    await commitEpoch(this.dir, manifest);
    this.native.commit(r.epoch);
    this.last = manifest;
    await prune(this.dir, manifest, this.retain?.() ?? []);
    return { manifest, result: r, bytesWritten };
  }

  stats(): NativeCheckpointStats {
    return this.native.stats();
  }

  /**
   * Restores the newest committed image of `dir` into `device`, which must have no live
   * buffers. Everything that can be checked before memory changes is (format, library,
   * commit record, chunk files and sizes, and with `verify` every chunk's checksum): a
   * refused restore throws ImageError and leaves the device as it was.
   */
  static restore(device: Device, dir: string, opts: RestoreOptions = {}): { checkpointer: Checkpointer; image: RestoredImage } {
    const library = kernelLibraryHash();
    const { manifest: m, skipped } = findImage(dir, library, opts.epoch);
    const ck = new Checkpointer(device, { dir, chunkBytes: m.chunkBytes, retain: opts.retain });
    const files: string[] = [];
    const fileOf = new Map<number, number>();
    const slots: number[] = [];
    const chunks: number[] = [];
    for (const b of m.buffers) {
      slots.push(b.index, b.gen, b.view ? 1 : 0, b.view ? b.view.root : b.index, b.view ? b.view.offset : 0, b.bytes);
      if (b.view) continue;
      if (!b.chunks || b.chunks.length !== Math.ceil(b.bytes / m.chunkBytes))
        throw new ImageError('corrupt', `${dir}: buffer ${b.handle} has ${b.chunks?.length ?? 0} chunks for ${b.bytes} bytes`);
      for (const [e, off, len, crc] of b.chunks) {
        let f = fileOf.get(e);
        if (f === undefined) fileOf.set(e, (f = files.push(chunkFile(dir, e)) - 1));
        chunks.push(f, off, len, crc);
      }
    }
    const onDemand = opts.onDemand ?? true;
    let metadataUs: number;
    try {
      metadataUs = ck.native.restore({
        epoch: m.epoch,
        files,
        slots: Float64Array.from(slots),
        chunks: Float64Array.from(chunks),
        onDemand,
        verify: opts.verify ?? !onDemand,
        loaderDelayUs: opts.loaderDelayUs ?? 0,
      });
    } catch (e) {
      const msg = (e as Error).message;
      throw new ImageError(/truncated|cannot open/.test(msg) ? 'truncated' : /live buffers|device/.test(msg) ? 'device' : 'corrupt', msg);
    }
    ck.last = m;
    ck.nextEpoch = m.epoch + 1;
    const buffers = new Map<number, DeviceBuffer>();
    const bySlot = new Map<number, DeviceBuffer>();
    for (const b of m.buffers) {
      if (b.view) continue;
      const root = new DeviceBuffer(device, b.handle, b.bytes);
      buffers.set(b.handle, root);
      bySlot.set(b.index, root);
    }
    for (const b of m.buffers) if (b.view) buffers.set(b.handle, new DeviceBuffer(device, b.handle, b.bytes, bySlot.get(b.view.root)));
    const loaded = ck.native.restoreDone();
    loaded.catch(() => undefined);
    return { checkpointer: ck, image: { manifest: m, buffers, metadataUs, loaded, skipped } };
  }
}
