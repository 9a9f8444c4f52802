// Thread priorities on Linux, where nice is a per-thread value: a thread may lower its own
// priority, but going back up needs CAP_SYS_NICE (root here). Stages change it per job, so
// it is used only where it can go back; elsewhere every thread stays at its nice.
import { getPriority, setPriority } from 'node:os';

/** Whether threads may change their nice per job (Linux, root). */
export function threadNiceAllowed(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0;
}

/** The calling thread's nice set to `n` when it differs from `current`; returns the value it now has. */
export function setThreadNice(n: number, current: number): number {
  if (n === current) return current;
  try {
    // pid 0 on Linux: the calling thread only (a worker's, not the process's).
    setPriority(0, n);
    return n;
  } catch {
    return getPriority(0);
  }
}
