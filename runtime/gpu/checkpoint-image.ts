// The checkpoint image on disk. A directory holds one folder per committed epoch:
//
//   D/epoch-00000007/chunks.bin     chunks saved in this epoch, back to back
//   D/epoch-00000007/manifest.json  format version, kernel-library hash, handles, per chunk
//                                   (epoch, offset, length, crc32), parent epoch, XNODE states
//   D/epoch-00000007/COMMIT         written last: epoch, manifest length and crc32
//   D/epoch-00000007/blobs/NAME     files the image's user keeps with it (e.g. optimized
//                                   models), each named once; later epochs refer to it
//
// An epoch is written in `D/.epoch-00000007.tmp`, every file fsynced, then renamed into
// place and D fsynced: a crash leaves either the previous set of epochs or the new one. An
// incremental epoch's manifest points at chunks of earlier epochs' files, so each manifest
// alone says where every byte is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const FORMAT = 'xauto-checkpoint';
export const FORMAT_VERSION = 1;

export interface ManifestBuffer {
  handle: number;
  index: number;
  gen: number;
  bytes: number;
  /** Views: the root's slot index and the view's offset in it. */
  view?: { root: number; offset: number };
  /** Roots: one [epoch, offset, length, crc32] per chunk. */
  chunks?: Array<[number, number, number, number]>;
}

export interface Manifest {
  format: typeof FORMAT;
  version: number;
  kernelLibrary: string;
  epoch: number;
  /** 0: a full image. */
  parent: number;
  chunkBytes: number;
  createdAt: string;
  buffers: ManifestBuffer[];
  /** Host state of XNODEs (runtime/xnode/state.ts encodings), by XNODE name. */
  xnodes: Record<string, unknown>;
  /** What the user of the image keeps with it (e.g. the frame the cut was taken at). */
  meta: Record<string, unknown>;
  /** Blobs by name: [epoch whose blobs/ folder holds it, length, crc32] (absent: none). */
  blobs?: Record<string, [number, number, number]>;
}

export interface CommitRecord {
  epoch: number;
  manifestBytes: number;
  manifestCrc32: number;
}

/** Why an image was refused; `xauto` exits 2 with `message`. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'missing' | 'corrupt' | 'version' | 'library' | 'truncated' | 'device',
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

const pad = (e: number) => String(e).padStart(8, '0');
export const epochDir = (dir: string, epoch: number) => join(dir, `epoch-${pad(epoch)}`);
export const tempDir = (dir: string, epoch: number) => join(dir, `.epoch-${pad(epoch)}.tmp`);
export const chunkFile = (dir: string, epoch: number) => join(epochDir(dir, epoch), 'chunks.bin');
export const blobFile = (dir: string, epoch: number, name: string) => join(epochDir(dir, epoch), 'blobs', name);

/** Blob names are file names: letters, digits, '.', '-', '_' (no folders, nothing hidden). */
export function checkBlobName(name: string): void {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(name)) throw new Error(`checkpoint: blob name '${name}': expected letters, digits, '.', '-', '_'`);
}

/** Writes blobs into the epoch's temporary folder (fsynced); their manifest entries. */
export async function writeBlobs(dir: string, epoch: number, blobs: Record<string, Uint8Array>): Promise<Record<string, [number, number, number]>> {
  const out: Record<string, [number, number, number]> = {};
  const names = Object.keys(blobs);
  if (!names.length) return out;
  const folder = join(tempDir(dir, epoch), 'blobs');
  mkdirSync(folder, { recursive: true });
  for (const name of names) {
    checkBlobName(name);
    const data = blobs[name]!;
    await writeDurable(join(folder, name), data);
    out[name] = [epoch, data.byteLength, crc32(data)];
  }
  await fsyncDir(folder);
  return out;
}

/**
 * A blob of a committed image, checked against its manifest entry: ImageError('missing')
 * when the manifest has no such blob, 'truncated' when the file is gone or short, 'corrupt'
 * when its checksum differs.
 */
export function readBlob(dir: string, m: Manifest, name: string): Buffer {
  const e = m.blobs?.[name];
  if (!e) throw new ImageError('missing', `${epochDir(dir, m.epoch)}: no blob '${name}'`);
  const [epoch, bytes, crc] = e;
  const file = blobFile(dir, epoch, name);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    throw new ImageError('truncated', `${file}: missing (the manifest of epoch ${m.epoch} refers to it)`);
  }
  if (data.length !== bytes) throw new ImageError('truncated', `${file}: ${data.length} bytes, the manifest says ${bytes}`);
  if (crc32(data) !== crc) throw new ImageError('corrupt', `${file}: checksum mismatch (image corrupt)`);
  return data;
}

/** Hash of the kernel library's descriptors: an image is only valid for the library that wrote it. */
export function libraryHash(kernels: unknown): string {
  return createHash('sha256').update(JSON.stringify(kernels)).digest('hex').slice(0, 16);
}

// Commits run off the event loop (libuv's threads): an fsync can wait for the file system's
// journal, and the stages on the event loop must not wait with it.
export async function writeDurable(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(typeof data === 'string' ? Buffer.from(data) : data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A fresh temporary folder for `epoch` (the native side writes chunks.bin into it). */
export function prepareEpoch(dir: string, epoch: number): string {
  mkdirSync(dir, { recursive: true });
  const tmp = tempDir(dir, epoch);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  return tmp;
}

/** Writes the manifest and the commit record, then renames the epoch into place. */
export async function commitEpoch(dir: string, m: Manifest): Promise<void> {
  const tmp = tempDir(dir, m.epoch);
  const body = Buffer.from(JSON.stringify(m));
  await writeDurable(join(tmp, 'manifest.json'), body);
  const rec: CommitRecord = { epoch: m.epoch, manifestBytes: body.length, manifestCrc32: crc32(body) };
  await writeDurable(join(tmp, 'COMMIT'), JSON.stringify(rec));
  await fsyncDir(tmp);
  const final = epochDir(dir, m.epoch);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await fsyncDir(dir);
}

/** Drops an epoch that will not be committed. */
export function abandonEpoch(dir: string, epoch: number): void {
  rmSync(tempDir(dir, epoch), { recursive: true, force: true });
}

/** Committed epochs, newest first (folders only; each is checked when read). */
export function listEpochs(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => /^epoch-(\d{8})$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** Reads one epoch's manifest; throws ImageError('corrupt'|'truncated') when it is torn or damaged. */
export function readEpoch(dir: string, epoch: number): Manifest {
  const ed = epochDir(dir, epoch);
  const commitPath = join(ed, 'COMMIT');
  if (!existsSync(commitPath)) throw new ImageError('truncated', `${ed}: no commit record (torn image)`);
  let rec: CommitRecord;
  try {
    rec = JSON.parse(readFileSync(commitPath, 'utf8')) as CommitRecord;
  } catch {
    throw new ImageError('corrupt', `${commitPath}: the commit record is not valid JSON`);
  }
  let body: Buffer;
  try {
    body = readFileSync(join(ed, 'manifest.json'));
  } catch {
    throw new ImageError('truncated', `${ed}: manifest.json is missing`);
  }
  if (rec.epoch !== epoch) throw new ImageError('corrupt', `${commitPath}: records epoch ${rec.epoch}, the folder says ${epoch}`);
  if (body.length !== rec.manifestBytes) throw new ImageError('truncated', `${ed}/manifest.json: ${body.length} bytes, the commit record says ${rec.manifestBytes}`);
  if (crc32(body) !== rec.manifestCrc32) throw new ImageError('corrupt', `${ed}/manifest.json: checksum mismatch (image corrupt)`);
  let m: Manifest;
  try {
    m = JSON.parse(body.toString('utf8')) as Manifest;
  } catch {
    throw new ImageError('corrupt', `${ed}/manifest.json: not valid JSON`);
  }
  if (m.format !== FORMAT) throw new ImageError('version', `${ed}: not an xauto checkpoint (format '${String(m.format)}')`);
  if (m.version !== FORMAT_VERSION) throw new ImageError('version', `${ed}: image format version ${m.version}; this xauto reads version ${FORMAT_VERSION}`);
  if (m.epoch !== epoch) throw new ImageError('corrupt', `${ed}: the manifest is of epoch ${m.epoch}`);
  return m;
}

export interface FoundImage {
  manifest: Manifest;
  /** Newer epochs passed over because they were torn, with why. */
  skipped: string[];
}

/**
 * The newest committed image in `dir` for this kernel library. An epoch without a complete
 * commit record (torn by a crash) is passed over for the one before; anything else wrong
 * refuses the image.
 */
export function findImage(dir: string, library: string, epoch?: number): FoundImage {
  const epochs = listEpochs(dir);
  if (epochs.length === 0) throw new ImageError('missing', `${dir}: no committed checkpoint`);
  const skipped: string[] = [];
  for (const e of epoch === undefined ? epochs : [epoch]) {
    let m: Manifest;
    try {
      m = readEpoch(dir, e);
    } catch (err) {
      if (err instanceof ImageError && err.reason === 'truncated' && epoch === undefined) {
        skipped.push(err.message);
        continue;
      }
      throw err;
    }
    if (m.kernelLibrary !== library)
      throw new ImageError('library', `${epochDir(dir, e)}: written by another kernel library (${m.kernelLibrary}; this device has ${library})`);
    return { manifest: m, skipped };
  }
  throw new ImageError('missing', `${dir}: no committed checkpoint (${skipped.join('; ')})`);
}

/**
 * Epochs no committed image newer than or equal to `keep` refers to, nor any of `retained`
 * (older epochs a caller still needs whole, e.g. the parts of a multi-process launch's last
 * committed epochs: checkpoint-epochs.ts).
 */
export async function prune(dir: string, keep: Manifest, retained: number[] = []): Promise<void> {
  const used = new Set<number>();
  const use = (m: Manifest) => {
    used.add(m.epoch);
    for (const b of m.buffers) for (const c of b.chunks ?? []) used.add(c[0]);
    for (const [e] of Object.values(m.blobs ?? {})) used.add(e);
  };
  use(keep);
  for (const e of retained) {
    if (e === keep.epoch || used.has(e)) continue;
    try {
      use(readEpoch(dir, e));
    } catch {
      // Gone or torn: nothing of it to keep.
    }
  }
  for (const e of listEpochs(dir)) if (e < keep.epoch && !used.has(e)) await rm(epochDir(dir, e), { recursive: true, force: true });
  for (const n of existsSync(dir) ? readdirSync(dir) : []) if (/^\.epoch-\d{8}\.tmp$/.test(n)) await rm(join(dir, n), { recursive: true, force: true });
}
