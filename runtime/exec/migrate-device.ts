// The large part of a stage's state on a live migration (exec/migrate.ts), by file on this
// host (the two processes share it; megabytes do not belong in one DDS sample): the device
// buffers it owns, copied out at the hand-over into a file per buffer and into the buffers the
// stage's instance owns in the target process (same names and sizes: same parameters); and
// host state past HOST_BY_FILE. The target takes only files it expects: in a hand-over folder
// of the stage under the temp dir, of the size its own buffer has; it removes them.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { acquireDevice, DeviceBuffer } from '../gpu/index.js';

export interface DeviceFiles {
  [name: string]: { file: string; bytes: number };
}

const PREFIX = 'xauto-migrate-';
const folderOf = (stage: string) => `${PREFIX}${stage.replace(/\W/g, '_')}-`;
/** A file saveDeviceState() made for this stage: in a folder of its own under the temp dir. */
const isHandoverFile = (stage: string, file: unknown): file is string =>
  typeof file === 'string' && basename(dirname(file)).startsWith(folderOf(stage)) && dirname(dirname(file)) === tmpdir();

/** Copies each named buffer out of this process's device into a file (and `host` into one); the folder is the caller's to remove if not taken. */
/** Encoded host state larger than this goes by file. */
export const HOST_BY_FILE = 1 << 20;

export function saveHandover(stage: string, handles: Record<string, number>, host?: string): { files: DeviceFiles; hostFile?: string; dir: string } {
  const lease = acquireDevice();
  const dir = mkdtempSync(join(tmpdir(), folderOf(stage)));
  try {
    const files: DeviceFiles = {};
    for (const [name, h] of Object.entries(handles)) {
      const d = lease.device;
      const bytes = d.native.bufferBytes(h);
      const data = new DeviceBuffer(d, h, bytes).read(new Uint8Array(bytes));
      const file = join(dir, `${name.replace(/\W/g, '_')}.bin`);
      writeFileSync(file, data);
      files[name] = { file, bytes };
    }
    let hostFile: string | undefined;
    if (host !== undefined) writeFileSync((hostFile = join(dir, 'host.json')), host);
    return { files, hostFile, dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    lease.release();
  }
}

/** The host state a hand-over put in a file (not removed: removeHandover does). */
export function readHostState(stage: string, file: unknown): unknown {
  if (!isHandoverFile(stage, file)) throw new Error(`${String(file)} is not a hand-over file of this stage`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Removes the hand-over folders of these files. */
export function removeHandover(stage: string, files: unknown[]): void {
  for (const f of files) if (isHandoverFile(stage, f)) rmSync(dirname(f), { recursive: true, force: true });
}

/** Copies the files into the buffers the stage owns here (`own`: its handles by name). Throws, changing nothing, on a mismatch. */
export function loadDeviceState(stage: string, files: unknown, own: Record<string, number>): number {
  const lease = acquireDevice();
  const d = lease.device;
  const given = (files ?? {}) as DeviceFiles;
  try {
    const names = Object.keys(own);
    if (typeof given !== 'object' || Object.keys(given).sort().join() !== [...names].sort().join()) {
      throw new Error(`device buffers ${Object.keys(given).join(', ') || 'none'} handed over, ${names.join(', ') || 'none'} owned here`);
    }
    const plan: Array<{ buf: DeviceBuffer; file: string }> = [];
    for (const name of names) {
      const f = given[name]!;
      const bytes = d.native.bufferBytes(own[name]!);
      if (!isHandoverFile(stage, f?.file)) throw new Error(`device buffer '${name}': ${String(f?.file)} is not a hand-over file of this stage`);
      if (f.bytes !== bytes || statSync(f.file).size !== bytes) throw new Error(`device buffer '${name}' is ${f.bytes} bytes in the hand-over, ${bytes} here (other parameters?)`);
      plan.push({ buf: new DeviceBuffer(d, own[name]!, bytes), file: f.file });
    }
    let total = 0;
    for (const p of plan) {
      const data = readFileSync(p.file);
      p.buf.write(data);
      total += data.byteLength;
    }
    return total;
  } finally {
    lease.release();
  }
}
