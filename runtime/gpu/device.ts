// The device: memory, kernels, prioritised streams, events, launches. A thin, typed layer
// over native/device; everything on the launch path (argument checks, access sets,
// idempotency, preemption) happens in the addon.
import { counters } from '../trace/counters.js';
import { Kernel, type KernelArgs, type Ptr } from './kernels.js';
import { Decision, Launch, type LaunchResult } from './launch.js';
import { CF, IF, deviceAddon, type NativeDevice, type NativeStats } from './native.js';

export type PreemptPolicy = 'wait' | 'save';

export interface DeviceOptions {
  /**
   * Device threads executing launches (each runs one launch at a time, block by block).
   * Default 1: one compute engine, so work of different priorities contends for it as
   * kernels filling a GPU do.
   */
  units?: number;
  /**
   * Whether higher-priority launches may kill running idempotent (or saved) work. Default
   * true; false gives the wait-for-completion baseline.
   */
  preempt?: boolean;
}

export interface StreamOptions {
  /** Higher runs first and may preempt lower-priority device work. Default 0. */
  priority?: number;
  /**
   * What a non-idempotent instance on this stream does when higher-priority work arrives:
   * `wait` (default) runs it to completion; `save` copies the bytes it both reads and writes
   * when it starts, so it can be killed, restored and relaunched.
   */
  policy?: PreemptPolicy;
}

export type DeviceStats = NativeStats;

interface Pending {
  resolve(r: LaunchResult): void;
  reject(e: Error): void;
  kernel: Kernel;
  idempotent: boolean;
  grid: number;
}

/** A device allocation, or a view aliasing part of one. */
export class DeviceBuffer {
  constructor(
    readonly device: Device,
    readonly handle: number,
    readonly bytes: number,
    /** The buffer this one is a view of. */
    readonly parent?: DeviceBuffer,
  ) {}

  /** An interior pointer `offset` bytes into this buffer. */
  at(offset: number): Ptr {
    return { handle: this.handle, offset };
  }

  /** A new handle aliasing bytes [offset, offset + bytes) of this buffer. */
  view(offset: number, bytes: number): DeviceBuffer {
    return new DeviceBuffer(this.device, this.device.native.view(this.handle, offset, bytes), bytes, this);
  }

  write(src: ArrayBufferView, byteOffset = 0): this {
    this.device.native.write(this.handle, byteOffset, src);
    return this;
  }

  /** Copies into `dst` (no allocation); returns it. */
  read<T extends ArrayBufferView>(dst: T, byteOffset = 0): T {
    this.device.native.read(this.handle, byteOffset, dst);
    return dst;
  }

  readFloat32(count = this.bytes >> 2, byteOffset = 0): Float32Array {
    return this.read(new Float32Array(count), byteOffset);
  }

  /** Frees the handle now; memory in use by queued or running launches is kept until they finish. */
  free(): void {
    this.device.native.free(this.handle);
  }
}

/** A synchronisation point recorded on a stream. */
export class DeviceEvent {
  constructor(
    readonly device: Device,
    readonly id: number,
  ) {}

  /** True when everything recorded so far on this event has been reached. */
  get reached(): boolean {
    return this.device.native.eventReached(this.id);
  }

  /** Resolves when the work recorded before it is done. */
  synchronize(): Promise<void> {
    return this.device.notify(this.id);
  }
}

/** An ordered queue of launches at one priority. */
export class Stream {
  constructor(
    readonly device: Device,
    readonly id: number,
    readonly priority: number,
    readonly policy: PreemptPolicy,
  ) {}

  /** Launches `kernel` with named arguments; returns its decision and a completion promise. */
  launch(kernel: string | Kernel, args: KernelArgs): Launch {
    return this.device.launchOn(this, kernel, args);
  }

  record(event: DeviceEvent): void {
    this.device.native.record(this.id, event.id);
  }

  /** Later launches on this stream wait until `event` is reached. */
  wait(event: DeviceEvent): void {
    this.device.native.waitEvent(this.id, event.id);
  }

  /** Resolves when everything launched so far on this stream is done. */
  synchronize(): Promise<void> {
    const e = this.device.event();
    this.record(e);
    return e.synchronize();
  }
}

export class Device {
  readonly native: NativeDevice;
  readonly backend: 'host' | 'cuda';
  readonly kernels: ReadonlyMap<string, Kernel>;
  private readonly launches = new Map<number, Pending>();
  private readonly waiters = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextToken = 1;
  private closed = false;
  // The addon writes each launch's decision here; a launch keeps a right-sized copy.
  private readonly info: Float64Array;
  private readonly fields: number;

  constructor(opts: DeviceOptions = {}) {
    const addon = deviceAddon();
    this.info = new Float64Array(addon.infoSlots);
    this.fields = addon.completionFields;
    this.backend = addon.backend;
    this.native = new addon.NativeDevice(opts.units ?? 1, (records) => this.onComplete(records), opts.preempt ?? true);
    this.kernels = new Map(addon.kernels().map((d) => [d.name, new Kernel(d)]));
  }

  kernel(name: string | Kernel): Kernel {
    if (typeof name !== 'string') return name;
    const k = this.kernels.get(name);
    if (!k) throw new Error(`unknown kernel '${name}'; the library has: ${[...this.kernels.keys()].join(', ')}`);
    return k;
  }

  alloc(bytes: number): DeviceBuffer {
    return new DeviceBuffer(this, this.native.alloc(bytes), bytes);
  }

  /** Allocates a buffer holding a copy of `src`. */
  upload(src: ArrayBufferView): DeviceBuffer {
    return this.alloc(src.byteLength).write(src);
  }

  stream(opts: StreamOptions = {}): Stream {
    const priority = opts.priority ?? 0;
    const policy = opts.policy ?? 'wait';
    if (policy !== 'wait' && policy !== 'save') throw new Error(`stream policy must be 'wait' or 'save', got '${String(policy)}'`);
    return new Stream(this, this.native.createStream(priority, policy === 'save' ? 1 : 0), priority, policy);
  }

  event(): DeviceEvent {
    return new DeviceEvent(this, this.native.createEvent());
  }

  /**
   * Access sets and idempotency decision of an instance, without launching it (the same code
   * the launch path runs, counted in the validation statistics).
   */
  validate(kernel: string | Kernel, args: KernelArgs): Decision {
    const k = this.kernel(kernel);
    this.native.validate(k.id, k.pack(args), this.info);
    return new Decision(k, this.takeInfo());
  }

  /** Runs blocks [from, to) synchronously on this thread (tests, brute-force checks). Returns the grid. */
  runBlocks(kernel: string | Kernel, args: KernelArgs, from: number, to: number): number {
    const k = this.kernel(kernel);
    return this.native.runBlocks(k.id, k.pack(args), from, to);
  }

  /** Runs the kernel's plain C++ reference implementation synchronously. */
  runReference(kernel: string | Kernel, args: KernelArgs): void {
    const k = this.kernel(kernel);
    this.native.runReference(k.id, k.pack(args));
  }

  stats(): DeviceStats {
    return this.native.stats();
  }

  resetStats(): void {
    this.native.resetStats();
  }

  /** @internal */
  launchOn(stream: Stream, kernel: string | Kernel, args: KernelArgs): Launch {
    if (stream.device !== this) throw new Error('launch: the stream belongs to another device');
    const k = this.kernel(kernel);
    const id = this.native.launch(stream.id, k.id, k.pack(args), this.info);
    const info = this.takeInfo();
    let pending!: Pending;
    const done = new Promise<LaunchResult>((resolve, reject) => {
      pending = { resolve, reject, kernel: k, idempotent: info[IF.idempotent] === 1, grid: info[IF.grid]! };
    });
    this.launches.set(id, pending);
    // A launch nobody awaits must not turn a device close into an unhandled rejection.
    done.catch(() => undefined);
    return new Launch(id, k, info, done);
  }

  private takeInfo(): Float64Array {
    return this.info.slice(0, IF.ranges + 4 * (this.info[IF.numReads]! + this.info[IF.numWrites]!));
  }

  /** @internal */
  notify(event: number): Promise<void> {
    const token = this.nextToken++;
    const p = new Promise<void>((resolve, reject) => this.waiters.set(token, { resolve, reject }));
    this.native.notifyEvent(event, token);
    return p;
  }

  private onComplete(r: Float64Array): void {
    for (let o = 0; o + this.fields <= r.length; o += this.fields) {
      const token = r[o + CF.token]!;
      const failed = r[o + CF.status] !== 0;
      if (r[o + CF.kind] === 1) {
        const w = this.waiters.get(token);
        this.waiters.delete(token);
        if (failed) w?.reject(new Error('device closed before the event was reached'));
        else w?.resolve();
        continue;
      }
      const p = this.launches.get(token);
      if (!p) continue;
      this.launches.delete(token);
      if (failed) {
        p.reject(new Error(`launch ${p.kernel.name} #${token}: device closed before it completed`));
        continue;
      }
      const preemptions = r[o + CF.preemptions]!;
      const savedBytes = r[o + CF.savedBytes]!;
      if (preemptions > 0) {
        counters.add('gpu.preemptions', preemptions);
        counters.add('gpu.relaunches', preemptions);
      }
      if (savedBytes > 0) counters.add('gpu.saved_bytes', savedBytes);
      p.resolve({
        id: token,
        kernel: p.kernel.name,
        idempotent: p.idempotent,
        preemptions,
        savedBytes,
        blocksRun: r[o + CF.blocksRun]!,
        grid: p.grid,
        enqueueUs: r[o + CF.enqueueUs]!,
        firstStartUs: r[o + CF.firstStartUs]!,
        lastStartUs: r[o + CF.lastStartUs]!,
        endUs: r[o + CF.endUs]!,
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops the device threads (running work stops at a block boundary) and fails what did not finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const rest = this.native.close();
    if (rest) this.onComplete(rest);
    for (const [id, p] of this.launches) p.reject(new Error(`launch ${p.kernel.name} #${id}: device closed before it completed`));
    for (const w of this.waiters.values()) w.reject(new Error('device closed before the event was reached'));
    this.launches.clear();
    this.waiters.clear();
  }
}
