// The checkpoint image of a launch whose xnodes run in several processes. Each process keeps
// its own series of epochs (checkpoint-image.ts: its stages' states and its device) in its part
// folder; the top process commits an epoch of the launch, a cut at one frame, by a record
// naming each process's epoch of that cut, written only once every part is durable:
//
//   D/processes/main/epoch-00000004/...       the top process's part
//   D/processes/tracking/epoch-00000003/...   another process's part
//   D/launch-epoch-00000005.json              epoch 5 of the launch: frame, parts {main: 4, tracking: 3}
//
// A record is written as a temporary file, fsynced, renamed into place, D fsynced: a crash
// leaves the previous records or the new one. A record whose part is missing or torn is
// passed over for the one before, whose parts each process keeps (retainedParts).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir, ImageError, readEpoch, writeDurable } from '../gpu/checkpoint-image.js';

export const LAUNCH_FORMAT = 'xauto-launch-checkpoint';
export const LAUNCH_FORMAT_VERSION = 1;
/** Committed launch epochs whose parts are kept: the newest, and the one a restore falls back to. */
const KEPT = 2;

export interface LaunchEpoch {
  format: typeof LAUNCH_FORMAT;
  version: number;
  epoch: number;
  /** The source frame of the cut: every part holds its stages' states as of its end. */
  frame: number;
  /** Each process's epoch in its part folder. */
  parts: Record<string, number>;
  createdAt: string;
  /** The top process's meta (launch file and arguments, scene clock, plan). */
  meta: Record<string, unknown>;
}

const pad = (e: number) => String(e).padStart(8, '0');
const recordFile = (dir: string, epoch: number) => join(dir, `launch-epoch-${pad(epoch)}.json`);

/** Where process `name` keeps its part of the launch's epochs. */
export const partDir = (dir: string, name: string) => join(dir, 'processes', name.replace(/[^A-Za-z0-9_-]/g, '_'));

/** Whether `dir` holds the image of a launch of several processes (not of one process). */
export const isLaunchImage = (dir: string) => existsSync(join(dir, 'processes')) || listLaunchEpochs(dir).length > 0;

/** Committed launch epochs, newest first. */
export function listLaunchEpochs(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => /^launch-epoch-(\d{8})\.json$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** Commits launch epoch `r.epoch`: durable once this resolves. */
export async function writeLaunchEpoch(dir: string, r: LaunchEpoch): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify(r);
  const tmp = join(dir, `.launch-epoch-${pad(r.epoch)}.tmp`);
  await writeDurable(tmp, JSON.stringify({ record: body, crc32: crc32(body) }));
  await rename(tmp, recordFile(dir, r.epoch));
  await fsyncDir(dir);
}

/** Reads one launch epoch's record; ImageError when it is damaged or of another format. */
export function readLaunchEpoch(dir: string, epoch: number): LaunchEpoch {
  const file = recordFile(dir, epoch);
  let outer: { record?: unknown; crc32?: unknown };
  try {
    outer = JSON.parse(readFileSync(file, 'utf8')) as typeof outer;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageError('missing', `${file}: no such launch epoch`);
    throw new ImageError('corrupt', `${file}: not valid JSON`);
  }
  if (typeof outer.record !== 'string' || crc32(outer.record) !== outer.crc32) throw new ImageError('corrupt', `${file}: checksum mismatch (record corrupt)`);
  const r = JSON.parse(outer.record) as LaunchEpoch;
  if (r.format !== LAUNCH_FORMAT) throw new ImageError('version', `${file}: not an xauto launch checkpoint (format '${String(r.format)}')`);
  if (r.version !== LAUNCH_FORMAT_VERSION) throw new ImageError('version', `${file}: launch image format version ${r.version}; this xauto reads version ${LAUNCH_FORMAT_VERSION}`);
  if (r.epoch !== epoch) throw new ImageError('corrupt', `${file}: records epoch ${r.epoch}`);
  return r;
}

/**
 * Checks that process `name`'s part of `r` is whole: its epoch committed in its folder, of
 * this kernel library, taken at the record's cut. ImageError('truncated') when it is missing
 * or torn (the record cannot be used; the one before can).
 */
export function checkPart(dir: string, r: LaunchEpoch, name: string, library: string): void {
  const e = r.parts[name]!;
  const where = partDir(dir, name);
  let m;
  try {
    m = readEpoch(where, e);
  } catch (err) {
    if (err instanceof ImageError && err.reason === 'truncated') {
      throw new ImageError('truncated', `launch epoch ${r.epoch}: the part of process '${name}' is not whole (${err.message})`);
    }
    throw err;
  }
  if (m.kernelLibrary !== library) throw new ImageError('library', `${where}: written by another kernel library (${m.kernelLibrary}; this device has ${library})`);
  if (m.meta.launchEpoch !== r.epoch || m.meta.frame !== r.frame) {
    throw new ImageError('truncated', `launch epoch ${r.epoch}: epoch ${e} of process '${name}' is of another cut (launch epoch ${String(m.meta.launchEpoch)}, frame ${String(m.meta.frame)})`);
  }
}

/**
 * The newest launch epoch of `dir` every part of which is whole; the newer ones passed over,
 * with why. Anything else wrong (a damaged record, another format or library) refuses it.
 */
export function findLaunchEpoch(dir: string, library: string): { record: LaunchEpoch; skipped: string[] } {
  const epochs = listLaunchEpochs(dir);
  if (!epochs.length) throw new ImageError('missing', `${dir}: no committed checkpoint of the launch`);
  const skipped: string[] = [];
  for (const k of epochs) {
    const r = readLaunchEpoch(dir, k);
    try {
      for (const name of Object.keys(r.parts)) checkPart(dir, r, name, library);
    } catch (err) {
      if (err instanceof ImageError && err.reason === 'truncated') {
        skipped.push(err.message);
        continue;
      }
      throw err;
    }
    return { record: r, skipped };
  }
  throw new ImageError('missing', `${dir}: no committed checkpoint of the launch (${skipped.join('; ')})`);
}

/** Process `name`'s epochs that the kept launch epochs name (its checkpointer keeps them whole). */
export function retainedParts(dir: string, name: string): number[] {
  const out: number[] = [];
  for (const k of listLaunchEpochs(dir).slice(0, KEPT)) {
    try {
      const e = readLaunchEpoch(dir, k).parts[name];
      if (e !== undefined) out.push(e);
    } catch {
      // A damaged record keeps nothing.
    }
  }
  return out;
}

/** Records older than the kept ones go (their parts go at each process's next commit). */
export async function pruneLaunchEpochs(dir: string): Promise<void> {
  for (const k of listLaunchEpochs(dir).slice(KEPT)) await rm(recordFile(dir, k), { force: true });
}

/**
 * A run restored from launch epoch `epoch` goes on from it: newer records (passed over) go,
 * so that none of them can name a part epoch this run writes again.
 */
export function dropNewer(dir: string, epoch: number): void {
  for (const k of listLaunchEpochs(dir)) if (k > epoch) rmSync(recordFile(dir, k), { force: true });
}
