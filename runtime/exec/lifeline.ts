// How long a process of a launch lives: it dies with its parent (parent-death signal through
// native/core, and a watched pipe where the parent holds our stdin), and a memory watchdog
// asks for an orderly stop before the heap limit or an RSS budget is reached.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { constants } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { loadAddon, type CoreAddon } from '../util/native.js';

interface LifelineAddon extends CoreAddon {
  setParentDeathSignal(signo: number): number;
  watchHeapLimit(extraBytes: number): void;
  heapNearLimit(): number;
}

const addon = (): LifelineAddon | undefined => {
  try {
    return loadAddon<LifelineAddon>('core');
  } catch {
    return undefined;
  }
};

/** The environment variable through which a launch tells its child processes who their parent is. */
export const PARENT_ENV = 'XAUTO_PARENT_PID';

/**
 * Calls `onParentGone` once when the process that started us (pid in XAUTO_PARENT_PID) dies, even
 * by kill -9: the kernel sends SIGTERM (PR_SET_PDEATHSIG), and EOF on a stdin pipe the parent
 * holds says the same where the signal is unavailable. Returns false when no parent is named.
 */
export function dieWithParent(onParentGone: (how: string) => void, env: NodeJS.ProcessEnv = process.env): boolean {
  const expected = Number(env[PARENT_ENV]);
  if (!Number.isInteger(expected) || expected <= 1) return false;
  parentPid = expected;
  delete env[PARENT_ENV]; // our own children have us as their parent
  let told = false;
  const gone = (how: string): void => {
    if (told) return;
    told = true;
    onParentGone(how);
  };
  const a = addon();
  if (a && process.platform === 'linux') {
    // SIGTERM, not SIGKILL: the run stops in order (the SIGTERM handler drains and reports).
    if (a.setParentDeathSignal(constants.signals.SIGTERM) !== expected) gone('the launch was gone before this process started');
  }
  if (!process.stdin.isTTY) {
    const stdin = process.stdin;
    stdin.on('end', () => gone('the launch closed its pipe'));
    stdin.on('error', () => gone('the launch closed its pipe'));
    stdin.resume();
    (stdin as unknown as { unref?: () => void }).unref?.(); // the pipe alone keeps nothing alive
  }
  return true;
}

let parentPid: number | undefined;

/** True when our parent is no longer the launch that started us (after dieWithParent). */
export function orphaned(): boolean {
  return parentPid !== undefined && process.ppid !== parentPid;
}

export interface WatchdogOptions {
  /** RSS budget in bytes; default 90% of the cgroup's memory limit or of the machine's memory. */
  maxRssBytes?: number;
  /** Fraction of V8's heap limit at which to stop; default 0.85. */
  heapFraction?: number;
  intervalMs?: number;
  /** Called once, with what was exceeded. */
  onLimit: (why: string) => void;
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

/** The memory this process may use: the cgroup (v2 or v1) limit when set, else all of the machine's. */
export function memoryBudget(): number {
  for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = Number(readFileSync(f, 'utf8').trim());
      if (Number.isFinite(v) && v > 0 && v < totalmem()) return v;
    } catch {
      /* not this cgroup layout */
    }
  }
  return totalmem();
}

/**
 * Polls heap and RSS; stops the run (once) before the heap limit. V8's near-heap-limit callback
 * (native/core) also flags a heap about to hit its limit between polls and lends it room once,
 * so the stop and the report can still allocate. Returns a function that stops watching.
 */
export function memoryWatchdog(o: WatchdogOptions): () => void {
  const limit = getHeapStatistics().heap_size_limit;
  const heapStop = limit * (o.heapFraction ?? 0.85);
  const rssStop = o.maxRssBytes ?? memoryBudget() * 0.9;
  const a = addon();
  a?.watchHeapLimit(Math.max(64 * 2 ** 20, limit * 0.25));
  let fired = false;
  const check = (): void => {
    if (fired) return;
    const heap = getHeapStatistics().used_heap_size;
    const rss = process.memoryUsage.rss();
    const near = a?.heapNearLimit() ?? 0;
    let why: string | undefined;
    if (near > 0) why = `the JavaScript heap reached its limit (${mb(near)})`;
    else if (heap > heapStop) why = `JavaScript heap ${mb(heap)} of its ${mb(limit)} limit`;
    else if (rss > rssStop) why = `resident memory ${mb(rss)} over the budget of ${mb(rssStop)}`;
    if (!why) return;
    fired = true;
    o.onLimit(why);
  };
  const timer = setInterval(check, o.intervalMs ?? 100);
  timer.unref();
  return () => clearInterval(timer);
}
