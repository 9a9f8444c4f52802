// Shared helpers for the launch tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtures = fileURLToPath(new URL('./fixtures/launch/', import.meta.url));
export const fixture = (name: string): string => join(fixtures, name);
/** Environment with the stand-in ROS2 install (this machine has no ROS2) on AMENT_PREFIX_PATH. */
export const fakeAmentEnv = (): NodeJS.ProcessEnv => ({ ...process.env, AMENT_PREFIX_PATH: fixture('fake_ament_prefix') });

/** A description without source positions and file names, to compare YAML with XML twins. */
export function stripPositions<T>(o: T): unknown {
  return JSON.parse(JSON.stringify(o, (k, v) => (k === 'pos' || k === 'portPos' || k === 'file' ? undefined : v)));
}

let scratch: string | undefined;
/** Writes a launch (or parameter) file into a folder of this test process; returns its path. */
export function writeLaunch(name: string, text: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'xauto-launch-'));
  const f = join(scratch, name);
  writeFileSync(f, text);
  return f;
}
