// Crash recovery for `xauto launch`: --checkpoint-every S --checkpoint-dir D takes a consistent
// checkpoint of the running launch at a frame boundary about every S seconds (exec/
// checkpoint-cut.ts); --restore D starts the launch from the newest committed image of D:
// device memory restored on demand, every stateful stage's state put back, sources going on
// with the frame after the image's. What was checkpointed or restored goes into the summary.
// In a launch of several processes each process does the same with its part of the launch's
// epochs (exec/checkpoint-parts.ts), in a folder of its own.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FrameCut, type CutCommit, type CutStage } from '../exec/checkpoint-cut.js';
import { dropNewer, partDir, retainedParts } from '../exec/checkpoint-epochs.js';
import { EpochPart, LaunchEpochs } from '../exec/checkpoint-parts.js';
import type { RemoteLinks } from '../exec/remote.js';
import type { Executor } from '../exec/executor.js';
import { CheckpointDriver, type Resumed } from '../gpu/checkpoint-driver.js';
import { Checkpointer } from '../gpu/checkpoint.js';
import type { Manifest } from '../gpu/checkpoint-image.js';
import { acquireDevice, type DeviceLease } from '../gpu/index.js';
import type { Graph } from '../graph/index.js';
import { onThread } from '../xnode/state.js';
import { WARM_MODELS_ENV, stagedModels, warmPays, type WarmModelFiles, type WarmModelInfo } from '../xpu/warm-models.js';
import { UserError } from './errors.js';
import { imagedModels, modelBlobs, modelsToCut } from './warm-image.js';
import { asUserError, identityOf, partEpoch, ROS_EPOCH_ENV, type CheckpointArgs, type CheckpointPart, type LaunchIdentity } from './checkpoint-args.js';

export { checkCheckpointArgs, partEpoch, prepareLaunchRestore, prepareRestore, resolveRestore, type CheckpointArgs, type CheckpointPart, type WarmModelsPolicy } from './checkpoint-args.js';

const ms = (v: number) => `${v.toFixed(1)} ms`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;

/** Checkpoints and restore of one run, around its executor. */
export class RunCheckpoints {
  private lease: DeviceLease | undefined;
  private resumed: Resumed | undefined;
  private cut: FrameCut | undefined;
  private restoredStages: string[] = [];
  /** Warm models: staged by this run's sessions (saving), in the image (restored), taken so far. */
  private staging: string | undefined;
  /** The image's warm models this run opens sessions from (restored). */
  private imaged: WarmModelInfo[] = [];
  /** Warm models of the image not used (auto: not worth their check), for the summary. */
  private skipped: Record<string, string> = {};
  /** The warm models of the cut being taken (blobs() then meta()). */
  private cutModels: WarmModelInfo[] = [];
  /** The environment's warm-models value before this run set it (restored on release). */
  private envBefore: { value: string | undefined } | undefined;
  /** In a launch of several processes: the top's commits of the launch epochs, or another's part. */
  private epochs: LaunchEpochs | undefined;
  private epochPart: EpochPart | undefined;

  private constructor(
    private readonly a: CheckpointArgs,
    private readonly identity: LaunchIdentity,
    private readonly log: (line: string) => void,
    private readonly part?: CheckpointPart,
  ) {}

  /**
   * The checkpoints of one run; with `part`, of this process's part of a launch of several
   * processes: its images go to its part folder, as those of a launch of one process go to
   * the directory (a restore takes the part epoch the launch epoch names).
   */
  static of(a: CheckpointArgs, file: string, launchArgs: string[], log: (line: string) => void, part?: CheckpointPart): RunCheckpoints | undefined {
    if (a.checkpointEvery === undefined && !a.restore) return undefined;
    if (!part) return new RunCheckpoints(a, identityOf(file, launchArgs), log);
    const own = partDir(part.dir, part.name);
    const here: CheckpointArgs = { ...a, restore: a.restore ? own : undefined, checkpointDir: a.restore ? undefined : a.checkpointDir && own };
    return new RunCheckpoints(here, identityOf(file, launchArgs), log, part);
  }

  /** Epochs of this part's folder the launch's kept epochs name (kept whole when a part commits). */
  private retain(): (() => number[]) | undefined {
    const p = this.part;
    return p && (() => retainedParts(p.dir, p.name));
  }

  /**
   * Before the executor starts (its links wait for every process to subscribe): the links of
   * the launch's checkpoints, in a launch of several processes.
   */
  wire(links: RemoteLinks | undefined, unsubscribe: Array<() => void>): void {
    const p = this.part;
    if (!p || !links || this.a.checkpointEvery === undefined) return;
    if (p.others) {
      this.epochs = new LaunchEpochs({ dir: p.dir, everyMs: this.a.checkpointEvery * 1000, processes: p.others, meta: () => this.cutMeta(), log: this.log });
      this.epochs.wire(links, unsubscribe);
    } else {
      this.epochPart = new EpochPart(p.name, this.log);
      this.epochPart.wire(links, unsubscribe);
    }
  }

  private cutMeta: () => Record<string, unknown> = () => ({ launch: this.identity, rosEpochNs: process.env[ROS_EPOCH_ENV] ?? null });

  /**
   * Before the stages exist: restores the device from the image (metadata only; chunks load
   * on demand) and returns the frame the run goes on with (0 without --restore).
   */
  restoreDevice(): number {
    if (!this.a.restore) {
      this.prepareModels(undefined);
      return 0;
    }
    this.lease = acquireDevice();
    try {
      const p = this.part;
      const epoch = p ? partEpoch(p.dir, p.restoreEpoch!, p.name) : undefined;
      this.resumed = CheckpointDriver.resume(this.lease.device, this.a.restore, { everyS: this.a.checkpointEvery ?? 0 }, { epoch, retain: this.retain() });
      this.prepareModels(this.resumed.image.manifest);
    } catch (e) {
      this.release();
      throw asUserError(e, this.a.restore);
    }
    return this.resumed.frame + 1;
  }

  /**
   * Before any thread opens a session: the image's warm models for them to open (checked),
   * and a staging folder for the models they open when this run checkpoints.
   */
  private prepareModels(image: Manifest | undefined): void {
    const policy = this.a.warmModels ?? 'auto';
    if (policy === 'never') return;
    let load: Record<string, WarmModelFiles> | undefined;
    if (image) {
      const imaged = imagedModels(this.a.restore!, image);
      load = {};
      for (const [k, v] of Object.entries(imaged)) {
        const i = v.info;
        if (policy === 'always' || warmPays(i)) {
          load[k] = v.files;
          this.imaged.push(i);
          continue;
        }
        // Measured when the image was taken: not worth its check. Said once, and in the summary.
        const why = `from its warm model it opens in ${ms(i.warmOpenMs)}, from the source in ${ms(i.sourceOpenMs)}, and the check run costs ${ms(i.runMs)}`;
        this.skipped[`${i.name}_warm_model`] = `not used: ${why}`;
        this.log(`xauto: '${i.name}' opens its source model: ${why} (--warm-models always uses it)`);
      }
    }
    if (this.a.checkpointEvery !== undefined) {
      this.staging = join(this.a.restore ?? this.a.checkpointDir!, '.warm-models');
      rmSync(this.staging, { recursive: true, force: true });
    }
    if (!load && !this.staging) return;
    this.envBefore = { value: process.env[WARM_MODELS_ENV] };
    process.env[WARM_MODELS_ENV] = JSON.stringify({ save: this.staging, load });
  }

  /**
   * The warm models of the next epoch: those of the last committed one (carried over) and,
   * as new blobs, those staged since that are not in it (an epoch that failed retakes them).
   */
  private takeModels(ck: Checkpointer): Record<string, Uint8Array> {
    const { carried, fresh } = modelsToCut(ck.lastCommitted, this.staging ? stagedModels(this.staging) : []);
    this.cutModels = [...carried, ...fresh.map((f) => f.info)];
    return modelBlobs(fresh);
  }

  /**
   * After the stages exist: puts their states back (those on worker threads by a message to
   * their worker), then starts checkpointing if asked.
   */
  async attach(ex: Executor, graph: Graph): Promise<void> {
    const stateful: CutStage[] = [];
    for (const s of graph.stages) {
      const state = ex.state(s.index);
      if (state) stateful.push({ stage: s.index, name: s.name, state });
    }
    if (this.resumed) await this.putBack(stateful);
    if (Object.keys(this.skipped).length) ex.addSection('models', this.skipped);
    if (this.a.checkpointEvery === undefined) return;
    this.lease ??= acquireDevice();
    const dir = this.a.restore ?? this.a.checkpointDir!;
    const checkpointer = this.resumed?.driver.checkpointer ?? new Checkpointer(this.lease.device, { dir, retain: this.retain() });
    this.cutMeta = () => ({ launch: this.identity, rosEpochNs: process.env[ROS_EPOCH_ENV] ?? null, plan: planOf(ex, graph) });
    // A restored launch of several processes goes on from its epoch: newer records (passed over) go.
    if (this.epochs && this.part?.restoreEpoch !== undefined) dropNewer(this.part.dir, this.part.restoreEpoch);
    this.cut = new FrameCut(stateful, checkpointer, {
      everyMs: this.a.checkpointEvery * 1000,
      manual: !!this.part,
      meta: () => ({ ...this.cutMeta(), warmModels: this.cutModels }),
      blobs: () => this.takeModels(checkpointer),
      onCommit: (c) => {
        // A part's commit is said once, by the top process, for the launch's epoch.
        if (this.part) return;
        const warm = checkpointer.lastCommitted?.meta.warmModels;
        const n = Array.isArray(warm) ? warm.length : 0;
        this.log(`xauto: ${describeCommit(c)}${n ? `, ${n} warm model${n > 1 ? 's' : ''}` : ''}`);
      },
      onError: (e) => this.log(`xauto: checkpoint failed (the previous image stays the one to restore): ${e.message}`),
    });
    this.epochs?.attach(this.cut);
    this.epochPart?.attach(this.cut);
    ex.addSection('checkpoint', { every_s: this.a.checkpointEvery, dir: this.part?.dir ?? dir, stages: stateful.map((s) => s.name).join(' ') || 'none' });
  }

  /** The image's states into the stages; restored device buffers no stage took back are freed. */
  private async putBack(stateful: CutStage[]): Promise<void> {
    const r = this.resumed!;
    const dir = this.a.restore!;
    const here = new Map(stateful.map((s) => [s.name, s]));
    for (const name of Object.keys(r.states)) {
      if (!here.has(name)) throw new UserError(`--restore ${dir}: the image holds the state of '${name}', which this launch does not run with a state (another plan or implementation?)`);
    }
    const claimed = new Set<number>();
    for (const s of stateful) {
      const snap = r.states[s.name];
      if (!snap) throw new UserError(`--restore ${dir}: the image holds no state of '${s.name}' (taken of another launch?)`);
      try {
        await s.state.restore(snap);
      } catch (e) {
        throw new UserError(`--restore ${dir}: '${s.name}': ${(e as Error).message}`);
      }
      for (const h of Object.values(snap.device)) claimed.add(h);
    }
    // Buffers of stages that keep no state (scratch): nobody owns them in this run.
    let freed = 0;
    const views = [...r.image.buffers.values()].filter((b) => b.parent);
    for (const b of views) if (!claimed.has(b.handle) && !claimed.has(b.parent!.handle)) b.free();
    for (const b of r.image.buffers.values()) {
      if (b.parent || claimed.has(b.handle)) continue;
      freed += b.bytes;
      b.free();
    }
    this.restoredStages = stateful.map((s) => s.name);
    const named = stateful.map((s) => s.name + (onThread(s.state) ? ' (on a worker thread)' : ''));
    const m = r.image.manifest;
    let bytes = 0;
    for (const b of m.buffers) if (!b.view) bytes += b.bytes;
    this.log(
      `xauto: restored epoch ${m.epoch} of ${dir} (taken ${m.createdAt}): state of ${named.join(', ') || 'no stage'} as of frame ${r.frame}, ` +
        `${mib(bytes - freed)} of device state loading on demand (launches could run after ${(r.image.metadataUs / 1000).toFixed(2)} ms); going on with frame ${r.frame + 1}` +
        (r.image.skipped.length ? `; passed over ${r.image.skipped.join(', ')}` : ''),
    );
  }

  jobs(): { started(stage: number, seq: number): void; finished(stage: number, seq: number): void } {
    return {
      started: (s, q) => {
        this.epochs?.started(q);
        this.cut?.started(s, q);
      },
      finished: (s, q) => {
        this.cut?.finished(s, q);
        this.epochs?.finished();
      },
    };
  }

  /** The run is over: the epoch being saved is finished; the summary says what was done. */
  async close(ex: Executor): Promise<void> {
    try {
      await this.epochs?.close();
      await this.cut?.close();
      await this.resumed?.image.loaded.catch(() => undefined);
    } finally {
      // The top process of a launch of several processes reports the launch's epochs.
      const c = this.epochs ?? (this.part ? undefined : this.cut);
      if (c) {
        const l = c.lastCommit;
        ex.addSection('checkpoint', {
          committed: c.committed,
          missed_cuts: c.missed,
          failed: c.failed,
          ...(l ? { last_epoch: l.epoch, last_frame: l.frame, device_bytes: l.deviceBytes, written_bytes: l.written, host_bytes: l.hostBytes, pause_us: round(l.pauseUs) } : {}),
          max_pause_us: round(c.maxPauseUs),
          first_output_ms: firstOutputMs(ex) ?? 'none',
        });
      }
      const r = this.resumed;
      if (r) {
        let bytes = 0;
        for (const b of r.image.manifest.buffers) if (!b.view) bytes += b.bytes;
        ex.addSection('restored', { dir: this.a.restore!, epoch: r.image.manifest.epoch, frame: r.frame, stages: this.restoredStages.join(' ') || 'none', device_bytes: bytes, metadata_us: round(r.image.metadataUs), first_output_ms: firstOutputMs(ex) ?? 'none' });
      }
    }
  }

  release(): void {
    this.lease?.release();
    this.lease = undefined;
    if (this.envBefore?.value !== undefined) process.env[WARM_MODELS_ENV] = this.envBefore.value;
    else if (this.envBefore) delete process.env[WARM_MODELS_ENV];
    this.envBefore = undefined;
    if (this.staging) rmSync(this.staging, { recursive: true, force: true });
    this.staging = undefined;
  }
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The plan the run goes on under now (fallbacks included), as a plan file holds it (schedule/readPlanFile). */
function planOf(ex: Executor, graph: Graph): Record<string, unknown> {
  return {
    name: ex.plan.name,
    serializeBetweenModules: !!ex.plan.serializeBetweenModules,
    placements: graph.stages.map((s) => ({ stage: s.name, ...ex.placement(s.index) })),
  };
}

/** Milliseconds from the process start to the first frame a sink finished (undefined: none). */
function firstOutputMs(ex: Executor): number | undefined {
  let first = Infinity;
  for (const c of ex.tracer.completions()) first = Math.min(first, c.end);
  return first === Infinity ? undefined : round(first);
}

export function describeCommit(c: CutCommit): string {
  return `checkpoint epoch ${c.epoch} committed: frame ${c.frame}, ${mib(c.deviceBytes)} device state (${mib(c.written)} written), ${c.hostBytes} B host state, pause ${c.pauseUs.toFixed(0)} us`;
}
