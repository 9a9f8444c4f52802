// The options of crash recovery for `xauto launch`, and what is checked of an image before a
// launch's xnodes load (exit 2 with the reason when it will not do): of a launch in one process,
// its newest committed image; of one in several, the newest launch epoch whose parts are whole
// (exec/checkpoint-epochs.ts) and each process's part of it.
import { basename } from 'node:path';
import { findLaunchEpoch, isLaunchImage, partDir, readLaunchEpoch } from '../exec/checkpoint-epochs.js';
import { ImageError, kernelLibraryHash } from '../gpu/checkpoint.js';
import { findImage } from '../gpu/checkpoint-image.js';
import { UserError } from './errors.js';
import { imagedModels } from './warm-image.js';

/** The scene clock of the synthetic sensors (perception-common/messages.ts): kept in the image. */
export const ROS_EPOCH_ENV = 'XAUTO_ROS_EPOCH_NS';

export type WarmModelsPolicy = 'auto' | 'always' | 'never';

export interface CheckpointArgs {
  checkpointEvery?: number;
  checkpointDir?: string;
  restore?: string;
  /**
   * The onnxruntime sessions' optimized models in the images, and sessions opened from them:
   * `auto` (default) opens a session from its warm model when that was measured to pay when
   * the image was taken (runtime/xpu/warm-models.ts warmPays), `always`, or `never`.
   */
  warmModels?: WarmModelsPolicy;
}

/**
 * This process's part in the checkpoints of a launch of several processes
 * (exec/checkpoint-parts.ts): its name, the launch's image directory, the other processes
 * (the top one only: it commits each epoch) and the launch epoch a restore starts from.
 */
export interface CheckpointPart {
  name: string;
  dir: string;
  others?: string[];
  restoreEpoch?: number;
}

/** What identifies the launch an image belongs to. */
export interface LaunchIdentity {
  file: string;
  args: string[];
}

export const identityOf = (file: string, args: string[]): LaunchIdentity => ({ file: basename(file), args: [...args] });

/** Checks the options; bad ones are the user's (exit 2). */
export function checkCheckpointArgs(a: CheckpointArgs & { process?: string; checkpointPart?: boolean }, layout: { processes: number; migrates: boolean; topRunsXnodes: boolean }): void {
  if (a.checkpointEvery !== undefined) {
    if (!(a.checkpointEvery > 0)) throw new UserError(`--checkpoint-every ${a.checkpointEvery}: expected seconds > 0`);
    if (!a.checkpointDir && !a.restore) throw new UserError('--checkpoint-every needs --checkpoint-dir DIR (where the images go)');
  } else if (a.checkpointDir) throw new UserError('--checkpoint-dir needs --checkpoint-every S');
  if (a.restore && a.checkpointDir && a.checkpointDir !== a.restore) {
    throw new UserError(`--checkpoint-dir ${a.checkpointDir} with --restore ${a.restore}: a restored run goes on checkpointing into the directory it was restored from (its next image is incremental to the restored one); leave --checkpoint-dir out`);
  }
  if (a.checkpointEvery === undefined && !a.restore) return;
  if (layout.processes > 1 && layout.migrates) throw new UserError('--checkpoint-every and --restore do not combine with --migrate (a moving xnode has no one process its part of a cut belongs to)');
  if (a.process && !a.checkpointPart) {
    throw new UserError(`--checkpoint-every and --restore are given to the top process of a launch of several processes (it starts the others and commits each epoch once all their parts are in), not to process '${a.process}' started alone`);
  }
  if (layout.processes > 1 && !layout.topRunsXnodes) throw new UserError("--checkpoint-every and --restore need xnodes in the top process ('main'): it picks each cut");
}

/**
 * Before the xnodes of the top process of a launch of several processes load: the newest launch
 * epoch of `dir` whose every part is whole (newer ones passed over, said in a line), checked as
 * prepareRestore checks an image of one process.
 */
export function prepareLaunchRestore(dir: string, file: string, launchArgs: string[], log: (line: string) => void): { plan?: Record<string, unknown>; epoch: number } {
  let found;
  try {
    found = findLaunchEpoch(dir, kernelLibraryHash());
  } catch (e) {
    throw asUserError(e, dir);
  }
  const r = found.record;
  for (const why of found.skipped) log(`xauto: --restore ${dir}: passed over ${why}`);
  return { ...takeOver(dir, r.meta, file, launchArgs), epoch: r.epoch };
}

/**
 * An image's metadata taken over by the launch restored from it: it must be of this launch file
 * with these arguments; the synthetic sensors' scene clock is set to the image's; its plan.
 */
function takeOver(dir: string, meta: Record<string, unknown>, file: string, launchArgs: string[]): { plan?: Record<string, unknown> } {
  const want = identityOf(file, launchArgs);
  const had = meta.launch as LaunchIdentity | undefined;
  if (!had || had.file !== want.file || had.args.join(' ') !== want.args.join(' ')) {
    throw new UserError(
      `--restore ${dir}: the image was taken of '${had?.file ?? '?'}' ${had?.args.join(' ') || '(no arguments)'}, not of '${want.file}' ${want.args.join(' ') || '(no arguments)'}`,
    );
  }
  if (typeof meta.rosEpochNs === 'string') process.env[ROS_EPOCH_ENV] = meta.rosEpochNs;
  return { plan: meta.plan && typeof meta.plan === 'object' ? (meta.plan as Record<string, unknown>) : undefined };
}

/** The epoch of process `name`'s part of launch epoch `epoch` of `dir`. */
export function partEpoch(dir: string, epoch: number, name: string): number {
  let e: number | undefined;
  try {
    e = readLaunchEpoch(dir, epoch).parts[name];
  } catch (err) {
    throw asUserError(err, dir);
  }
  if (e === undefined) throw new UserError(`--restore ${dir}: launch epoch ${epoch} holds no part of process '${name}' (taken of another launch?)`);
  return e;
}

/**
 * Before the launch's xnodes load: the newest committed image of `dir` must be of this launch
 * file with these arguments; the synthetic sensors' scene clock is set to the image's, so the
 * stamps go on where they were.
 */
export function prepareRestore(dir: string, file: string, launchArgs: string[], warmModels: WarmModelsPolicy = 'auto', epoch?: number): { plan?: Record<string, unknown> } {
  let meta: Record<string, unknown>;
  try {
    const m = findImage(dir, kernelLibraryHash(), epoch).manifest;
    meta = m.meta;
    // Refused now, before anything starts: a warm model that is damaged or of another onnxruntime.
    if (warmModels !== 'never') imagedModels(dir, m);
  } catch (e) {
    throw asUserError(e, dir);
  }
  return takeOver(dir, meta, file, launchArgs);
}

/**
 * `--restore` resolved before the xnodes load, to the plan the image was taken under (none for a
 * process the top one started: it runs under the plan passed to it). The image of a launch of
 * several processes: its newest whole epoch (set as `a.restoreEpoch` for the other processes),
 * each process its part.
 */
export function resolveRestore(
  a: CheckpointArgs & { file: string; launchArgs: string[]; process?: string; restoreEpoch?: number },
  dir: string,
  log: (line: string) => void,
): Record<string, unknown> | undefined {
  if (a.process) {
    prepareRestore(partDir(dir, a.process), a.file, a.launchArgs, a.warmModels, partEpoch(dir, a.restoreEpoch!, a.process));
    return undefined;
  }
  if (!isLaunchImage(dir)) return prepareRestore(dir, a.file, a.launchArgs, a.warmModels).plan;
  const found = prepareLaunchRestore(dir, a.file, a.launchArgs, log);
  a.restoreEpoch = found.epoch;
  prepareRestore(partDir(dir, 'main'), a.file, a.launchArgs, a.warmModels, partEpoch(dir, found.epoch, 'main'));
  log(`xauto: --restore ${dir}: launch epoch ${found.epoch}, each process from its part of it`);
  return found.plan;
}

export function asUserError(e: unknown, dir: string): Error {
  if (e instanceof ImageError) return new UserError(`--restore ${dir}: ${e.message}`);
  return e as Error;
}
