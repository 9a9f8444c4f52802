// Thread priorities on Linux, where nice is a per-thread value: a thread may lower its own
// priority, but going back up needs CAP_SYS_NICE (or an RLIMIT_NICE that reaches nice 0).
// Stages change it per job, so it is used only where it can go back; elsewhere every thread
// stays at its nice. Root in a container may lack the capability: it is read, not assumed.
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** CAP_SYS_NICE's bit in a capability set (linux/capability.h). */
const CAP_SYS_NICE = 23n;

/** Whether threads may change their nice per job: Linux, and allowed back up to 0. */
export function threadNiceAllowed(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (eff && (BigInt('0x' + eff) >> CAP_SYS_NICE) & 1n) return true;
    // RLIMIT_NICE's soft limit n lets a thread go up to nice 20 - n.
    const soft = /^Max nice priority\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return soft !== undefined && Number(soft) >= 20;
  } catch {
    return false;
  }
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
