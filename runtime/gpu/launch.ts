// What a launch returns: the instance's access sets and idempotency decision (computed on
// the launch path, in the addon) and a promise of its completion.
import type { Kernel } from './kernels.js';
import { IF } from './native.js';

/** A byte range of a root allocation (views and interior pointers already resolved). */
export interface AccessRange {
  /** Handle of the root allocation. */
  buffer: number;
  /** Absolute byte offset in the root allocation. */
  offset: number;
  bytes: number;
  /** Kernel parameter the range comes from. */
  param: string;
}

export interface AccessSets {
  reads: AccessRange[];
  writes: AccessRange[];
}

export type NotIdempotentReason = 'side-effects' | 'overlap';

/** How a launch went, once it finished. Times are monotonic microseconds. */
export interface LaunchResult {
  id: number;
  kernel: string;
  idempotent: boolean;
  /** Times the running instance was killed to let higher-priority work run (each one relaunched). */
  preemptions: number;
  /** Bytes saved at its start to make a non-idempotent instance re-executable. */
  savedBytes: number;
  /** Blocks executed, counting those thrown away by preemptions. */
  blocksRun: number;
  grid: number;
  enqueueUs: number;
  firstStartUs: number;
  lastStartUs: number;
  endUs: number;
}

/** The decision part of a launch, decoded from the info the addon fills. */
export class Decision implements AccessSets {
  readonly idempotent: boolean;
  readonly grid: number;
  /** Why not idempotent (undefined when idempotent). */
  readonly reason?: NotIdempotentReason;
  /** For `overlap`: the parameters whose write and read ranges intersect. */
  readonly overlap?: { write: string; read: string };
  private sets?: AccessSets;

  constructor(
    readonly kernel: Kernel,
    private readonly info: Float64Array,
  ) {
    this.idempotent = info[IF.idempotent] === 1;
    this.grid = info[IF.grid]!;
    const reason = info[IF.reason];
    if (reason === 1) this.reason = 'side-effects';
    if (reason === 2) {
      this.reason = 'overlap';
      this.overlap = { write: kernel.paramName(info[IF.writeParam]!), read: kernel.paramName(info[IF.readParam]!) };
    }
  }

  private decode(): AccessSets {
    if (this.sets) return this.sets;
    const nr = this.info[IF.numReads]!;
    const nw = this.info[IF.numWrites]!;
    const at = (i: number): AccessRange => {
      const o = IF.ranges + 4 * i;
      return { buffer: this.info[o]!, offset: this.info[o + 1]!, bytes: this.info[o + 2]!, param: this.kernel.paramName(this.info[o + 3]!) };
    };
    this.sets = { reads: Array.from({ length: nr }, (_, i) => at(i)), writes: Array.from({ length: nw }, (_, i) => at(nr + i)) };
    return this.sets;
  }

  get reads(): AccessRange[] {
    return this.decode().reads;
  }

  get writes(): AccessRange[] {
    return this.decode().writes;
  }
}

/** A launched kernel instance. */
export class Launch extends Decision {
  constructor(
    readonly id: number,
    kernel: Kernel,
    info: Float64Array,
    readonly done: Promise<LaunchResult>,
  ) {
    super(kernel, info);
  }
}
