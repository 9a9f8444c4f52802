// Periodic checkpoints of a running pipeline at frame boundaries, and resuming from the last
// one: what crash recovery runs. The caller (the executor's dispatch core, or a test's loop)
// calls `frameDone(n, states)` when every stateful stage has finished source frame n and none
// has started frame n + 1; the driver then takes a device checkpoint with those XNODE states
// when one is due. After a crash, `resume` restores the device and returns the states and the
// frame to go on from.
import type { Device } from './device.js';
import { Checkpointer, type Epoch, type RestoredImage } from './checkpoint.js';
import { decodeState, encodeState, type StateSnapshot, type XNodeState } from '../xnode/state.js';

export interface DriverOptions {
  /** Seconds between checkpoints (a checkpoint is taken at the first frame boundary after). */
  everyS: number;
  chunkBytes?: number;
  /** Reports each committed epoch (or a failure: the previous image stays the valid one). */
  onCommit?(epoch: number, frame: number): void;
  onError?(e: Error): void;
}

export interface Resumed {
  driver: CheckpointDriver;
  /** The last source frame the image includes: go on with frame + 1. */
  frame: number;
  states: Record<string, StateSnapshot>;
  image: RestoredImage;
}

export class CheckpointDriver {
  private last = -Infinity;
  private inflight: Promise<unknown> | undefined;
  committed = 0;

  constructor(
    readonly checkpointer: Checkpointer,
    private readonly opts: DriverOptions,
  ) {}

  static start(device: Device, dir: string, opts: DriverOptions): CheckpointDriver {
    return new CheckpointDriver(new Checkpointer(device, { dir, chunkBytes: opts.chunkBytes }), opts);
  }

  /**
   * Restores the newest committed image (or epoch `at.epoch`) into `device` (throws
   * ImageError, changing nothing, when it cannot).
   */
  static resume(device: Device, dir: string, opts: DriverOptions, at: { epoch?: number; retain?: () => number[] } = {}): Resumed {
    const { checkpointer, image } = Checkpointer.restore(device, dir, { onDemand: true, verify: true, ...at });
    const frame = image.manifest.meta.frame;
    if (typeof frame !== 'number') throw new Error(`${dir}: the image does not say which frame it was taken at`);
    const states: Record<string, StateSnapshot> = {};
    for (const [name, s] of Object.entries(image.manifest.xnodes)) states[name] = decodeState(s);
    const driver = new CheckpointDriver(checkpointer, opts);
    driver.last = performance.now();
    return { driver, frame, states, image };
  }

  /** Frame `n` is done everywhere: checkpoint now if one is due and none is being saved. */
  frameDone(n: number, states: Record<string, XNodeState>): Epoch | undefined {
    const t = performance.now();
    if (this.inflight || this.checkpointer.native.stats().restoring || t - this.last < this.opts.everyS * 1000) return undefined;
    this.last = t;
    const xnodes: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(states)) xnodes[name] = encodeState(s.snapshot());
    const e = this.checkpointer.begin({ xnodes, meta: { frame: n } });
    this.inflight = e.committed.then(
      () => {
        this.committed = e.epoch;
        this.opts.onCommit?.(e.epoch, n);
      },
      (err: Error) => this.opts.onError?.(err),
    );
    void this.inflight.finally(() => (this.inflight = undefined));
    return e;
  }

  /** Waits for the checkpoint being saved, if any. */
  async drain(): Promise<void> {
    await this.inflight;
  }
}
