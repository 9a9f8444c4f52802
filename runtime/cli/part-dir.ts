// A process of a launch of several keeps its part of the launch's checkpoints in a folder of
// its own. After the launch's top process was killed, that process of the old run gets its
// parent-death signal and stops in order, finishing the part it was writing: a restored
// launch's process waits for it to be gone before it takes the folder over.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors.js';

const OWNER = '.owner';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes this process the one writing `dir`, once the one before (if any is still running) is gone. */
export async function claimPartDir(dir: string, log: (line: string) => void, waitMs = 20_000): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, OWNER);
  let before = NaN;
  try {
    before = Number(readFileSync(file, 'utf8'));
  } catch {
    // Nobody had it.
  }
  if (Number.isInteger(before) && before > 1 && before !== process.pid && alive(before)) {
    log(`xauto: waiting for process ${before} of the previous run to finish with ${dir}`);
    const end = Date.now() + waitMs;
    while (alive(before)) {
      if (Date.now() > end) throw new UserError(`${dir}: process ${before} of a previous run still writes its checkpoints (stop it first)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  writeFileSync(file, String(process.pid));
}
