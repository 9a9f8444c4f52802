// Checkpoints of a running launch, each a consistent cut at a source-frame boundary: every
// stateful stage's state as of the end of the same frame N, taken while the stages keep
// running (no stage waits for another). The executor reports each stage's job as it starts and
// ends (one job at a time per stage); a stage's state "as of N" is its state when it ends frame
// N, or, when it never gets N, just before it starts its first frame after N.
//
// Host state is a copy (runtime/xnode/state.ts) taken at that point. Device state is one
// instant t1 of the whole device (runtime/gpu/checkpoint.ts): t1 is taken when every stage
// that owns device state is at its cut at the same time; a cut that one of them leaves before
// the others reach it is given up and tried again at the next frames (counted as missed).
// The host states that reach the cut after t1 are added to the epoch before it commits.
// A stage on a worker thread is copied there (its pool queues the copy behind its job for N,
// and it comes back by message); the epoch waits for those copies too.
// In a launch of several processes each process takes its part of a cut at the frame the top
// process names (cutAt; checkpoint-epochs.ts commits the launch's epoch once all are in).
import type { Checkpointer, Epoch } from '../gpu/checkpoint.js';
import { encodeState, onThread, type StageState, type StateSnapshot } from '../xnode/state.js';

export interface CutStage {
  stage: number;
  name: string;
  state: StageState;
}

export interface CutCommit {
  epoch: number;
  frame: number;
  /** Device bytes in the image (all chunks, this epoch's and inherited ones). */
  deviceBytes: number;
  /** Bytes this epoch wrote (incremental: only chunks written since the last). */
  written: number;
  /** Encoded host state bytes. */
  hostBytes: number;
  /** How long the device cut held the stage at the cut (µs). */
  pauseUs: number;
  /** How long taking the host copies took, all stages together (µs). */
  hostUs: number;
}

export interface CutOptions {
  everyMs: number;
  /** Cuts only where cutAt() names them (a part of a multi-process launch's cut), never on a timer. */
  manual?: boolean;
  /** Kept in each image, as of its cut (launch file and arguments, so a restore can check them; the plan). */
  meta: () => Record<string, unknown>;
  /** Files to keep in the image from this cut on (the checkpointer's blobs); asked before meta(). */
  blobs?: () => Record<string, Uint8Array>;
  onCommit?(c: CutCommit): void;
  onError?(e: Error): void;
  now?(): number;
}

interface Entry {
  cs: CutStage;
  device: boolean;
  lastStarted: number;
  running: boolean;
  /** At the pending cut now (snapshotted, and not started again since). */
  atCut: boolean;
}

interface Pending {
  frame: number;
  opened: number;
  /** Stages copied (or being copied, on worker threads) as of the cut. */
  taken: Set<string>;
  snaps: Map<string, StateSnapshot>;
  epoch?: Epoch;
  hostUs: number;
  /** Kept in this cut's image beside meta() (cutAt). */
  extra?: Record<string, unknown>;
  /** Told how the cut ended (cutAt). */
  settle?: { ok(c: CutCommit): void; fail(e: Error): void };
  resolve(x: Record<string, unknown>): void;
  reject(e: Error): void;
  xnodes: Promise<Record<string, unknown>>;
}

export class FrameCut {
  private readonly entries = new Map<number, Entry>();
  private readonly deviceEntries: Entry[];
  private pending: Pending | undefined;
  private saving: Promise<unknown> | undefined;
  private last: number;
  private readonly now: () => number;
  committed = 0;
  /** Cuts given up because a device stage left its cut before the others reached theirs. */
  missed = 0;
  failed = 0;
  lastCommit: CutCommit | undefined;
  maxPauseUs = 0;

  constructor(
    stages: CutStage[],
    readonly checkpointer: Checkpointer,
    private readonly o: CutOptions,
  ) {
    for (const cs of stages) {
      // Device state: the stage names device buffers it owns (worker threads own none).
      const device = !onThread(cs.state) && Object.keys(cs.state.snapshot().device).length > 0;
      this.entries.set(cs.stage, { cs, device, lastStarted: -Infinity, running: false, atCut: false });
    }
    this.deviceEntries = [...this.entries.values()].filter((e) => e.device);
    this.now = o.now ?? (() => performance.now());
    this.last = this.now();
  }

  /** Stage `stage` is about to start frame `seq` (nothing of it has run yet). */
  started(stage: number, seq: number): void {
    const e = this.entries.get(stage);
    if (!e) return;
    const p = this.pending;
    if (p && !p.taken.has(e.cs.name) && seq > p.frame) this.snap(p, e);
    if (e.atCut) {
      e.atCut = false;
      // It leaves the cut: without t1 taken yet, the device cut can no longer be had.
      if (p && e.device && !p.epoch) this.giveUp(p, true);
    }
    e.running = true;
    e.lastStarted = seq;
  }

  /** Stage `stage` ended frame `seq` (its outputs not yet delivered). */
  finished(stage: number, seq: number): void {
    const e = this.entries.get(stage);
    // Without stateful stages a checkpoint holds only how far the frames got.
    if (!e && this.entries.size) return;
    if (e) e.running = false;
    let p = this.pending;
    if (e && p && !p.taken.has(e.cs.name) && seq >= p.frame) this.snap(p, e);
    const t = this.now();
    // A cut some stage never reaches (its frames stopped coming) does not hold up the next.
    if (p && t - p.opened > 4 * this.o.everyMs + 1000) this.giveUp(p, true);
    if (this.o.manual || this.pending || this.saving || t - this.last < this.o.everyMs) return;
    if (this.checkpointer.stats().restoring) return; // the restored image is still loading
    let frame = this.entries.size ? -Infinity : seq;
    for (const x of this.entries.values()) frame = Math.max(frame, x.lastStarted);
    if (frame === -Infinity) return;
    this.last = t;
    p = this.open(frame, t);
    if (!this.deviceEntries.length) this.beginDevice(p);
    for (const x of this.entries.values()) if (!x.running && x.lastStarted === frame) this.snap(p, x);
    this.completeIfCut(p);
  }

  /**
   * Takes a cut as of the end of frame `frame` (now or in the future), keeping `extra` in its
   * image; resolves once it is committed. Rejects when a stateful stage here already started a
   * later frame (the cut cannot be had: `ahead` says how far this process got), when one is
   * being saved, or when it fails.
   */
  cutAt(frame: number, extra: Record<string, unknown>): Promise<CutCommit> {
    return new Promise<CutCommit>((ok, fail) => {
      if (this.pending) this.giveUp(this.pending, true);
      if (this.saving) return fail(new Error('the previous epoch is still being saved'));
      if (this.checkpointer.stats().restoring) return fail(new Error('the restored image is still loading'));
      let ahead = -Infinity;
      for (const x of this.entries.values()) ahead = Math.max(ahead, x.lastStarted);
      if (ahead > frame) return fail(Object.assign(new Error(`a stage here already started frame ${ahead}`), { ahead }));
      const p = this.open(frame, this.now());
      p.extra = extra;
      p.settle = { ok, fail };
      if (!this.deviceEntries.length) this.beginDevice(p);
      for (const x of this.entries.values()) if (!x.running && x.lastStarted === frame) this.snap(p, x);
      this.completeIfCut(p);
    });
  }

  private open(frame: number, t: number): Pending {
    let resolve!: Pending['resolve'];
    let reject!: Pending['reject'];
    const xnodes = new Promise<Record<string, unknown>>((res, rej) => ((resolve = res), (reject = rej)));
    xnodes.catch(() => undefined);
    this.pending = { frame, opened: t, taken: new Set(), snaps: new Map(), hostUs: 0, resolve, reject, xnodes };
    return this.pending;
  }

  private snap(p: Pending, e: Entry): void {
    p.taken.add(e.cs.name);
    const state = e.cs.state;
    if (onThread(state)) {
      state.snapshot().then(
        (s) => {
          if (this.pending !== p) return;
          if (Object.keys(s.device).length) return this.fail(p, new Error(`'${e.cs.name}' names device buffers from a worker thread; only stages on the process's own thread own device state`));
          p.snaps.set(e.cs.name, s);
          this.completeIfCut(p);
        },
        (err: Error) => this.fail(p, new Error(`'${e.cs.name}' (worker thread): ${err.message}`)),
      );
      return;
    }
    const t0 = performance.now();
    p.snaps.set(e.cs.name, state.snapshot());
    p.hostUs += (performance.now() - t0) * 1000;
    e.atCut = true;
    if (!p.epoch && e.device && this.deviceEntries.every((x) => x.atCut)) this.beginDevice(p);
    this.completeIfCut(p);
  }

  /** Every stage's state is in and t1 was taken: the epoch gets its host states and commits. */
  private completeIfCut(p: Pending): void {
    if (this.pending === p && p.epoch && p.snaps.size === this.entries.size) this.complete(p);
  }

  private beginDevice(p: Pending): void {
    try {
      const blobs = this.o.blobs?.();
      p.epoch = this.checkpointer.begin({ xnodes: p.xnodes, meta: { ...this.o.meta(), ...p.extra, frame: p.frame }, blobs });
    } catch (err) {
      this.failed++;
      this.o.onError?.(err as Error);
      p.settle?.fail(err as Error);
      this.giveUp(p, false);
      return;
    }
    const epoch = p.epoch;
    this.maxPauseUs = Math.max(this.maxPauseUs, epoch.pauseUs);
    // Done saving before anyone is told: the next cut may be asked for at once.
    const saved = () => {
      if (this.saving === saving) this.saving = undefined;
    };
    const saving: Promise<unknown> = epoch.committed.then(
      (c) => {
        saved();
        this.committed++;
        let hostBytes = 0;
        for (const v of Object.values(c.manifest.xnodes)) hostBytes += JSON.stringify(v).length;
        let deviceBytes = 0;
        for (const b of c.manifest.buffers) if (!b.view) deviceBytes += b.bytes;
        this.lastCommit = { epoch: epoch.epoch, frame: p.frame, deviceBytes, written: c.bytesWritten, hostBytes, pauseUs: epoch.pauseUs, hostUs: p.hostUs };
        this.o.onCommit?.(this.lastCommit);
        p.settle?.ok(this.lastCommit);
      },
      (err: Error) => {
        saved();
        // Not committed: the previous image stays the one a restore uses.
        if (err.message !== GAVE_UP) {
          this.failed++;
          this.o.onError?.(err);
        }
        p.settle?.fail(err);
      },
    );
    this.saving = saving;
  }

  private complete(p: Pending): void {
    this.pending = undefined;
    const xnodes: Record<string, unknown> = {};
    for (const [name, s] of p.snaps) xnodes[name] = encodeState(s);
    p.resolve(xnodes);
  }

  /** A copy could not be had: this cut is not committed (the previous image stays). */
  private fail(p: Pending, err: Error): void {
    if (this.pending !== p) return;
    this.failed++;
    this.o.onError?.(err);
    this.giveUp(p, false);
  }

  private giveUp(p: Pending, missed: boolean): void {
    if (this.pending !== p) return;
    this.pending = undefined;
    if (missed) {
      this.missed++;
      this.last = -Infinity; // try again at the next frames
    }
    for (const e of this.entries.values()) e.atCut = false;
    p.reject(new Error(GAVE_UP));
    // Before t1 nothing was begun; after it the epoch's rejection tells settle.
    if (!p.epoch) p.settle?.fail(new Error(GAVE_UP));
  }

  /** The run is over: an unfinished cut is given up; waits for the epoch being saved. */
  async close(): Promise<void> {
    if (this.pending) this.giveUp(this.pending, false);
    await this.saving;
  }
}

const GAVE_UP = 'checkpoint: the cut was given up';
