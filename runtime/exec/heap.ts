// The main thread's garbage collector, as a source of latency.
// - V8 starts a major GC when the old generation plus the memory of ArrayBuffers passes a limit
//   derived from the live heap. A pipeline's live heap is small (~15 MB) while each frame makes
//   megabytes of short-lived buffers (images, tensors, point clouds): with the default limit the
//   main thread ran a major GC about once a second at 10 Hz, each stalling it 5-20 ms (pause and
//   incremental marking steps) and taking a core from the stages beside it. A frame that met
//   one took twice the median end to end. Scavenges reclaim those buffers anyway; a larger
//   initial old generation only keeps the buffers' bytes from starting a major GC.
// - The limit is read at start-up only, so `bin/xauto.mjs` (its #! line) and the bench script
//   pass MAIN_HEAP_FLAG to node; a run on real time says once when it was started without it.
// - Every run on real time counts the main thread's GCs and their pauses (the summary's `gc:`).
import { PerformanceObserver, constants, type PerformanceEntry, type PerformanceObserverEntryList } from 'node:perf_hooks';

/** Initial old generation (MiB). Nothing is reserved: V8 takes memory as the heap grows; this raises the limit. */
export const MAIN_HEAP_MB = 128;
export const MAIN_HEAP_FLAG = `--initial-old-space-size=${MAIN_HEAP_MB}`;

export function mainHeapSized(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((a) => a.startsWith('--initial-old-space-size=') && Number(a.split('=')[1]) >= MAIN_HEAP_MB);
}

export interface GcFacts {
  /** Major GCs (mark-compact) and their atomic pauses. */
  major: number;
  major_ms: number;
  /** Incremental marking steps run on the main thread (part of major GCs). */
  marking_ms: number;
  /** Scavenges of the young generation. */
  minor: number;
  minor_ms: number;
  max_pause_ms: number;
  heap_sized: boolean;
}

let warned = false;

/** Watches the main thread's GCs from now until stop(); says once per process if the heap is not sized. */
export function watchGc(log: (line: string) => void): { stop(): Promise<GcFacts> } {
  const sized = mainHeapSized();
  if (!warned && !sized) {
    warned = true;
    log(`[exec] the main thread's heap is not sized (node was started without ${MAIN_HEAP_FLAG}, which bin/xauto passes): per-frame buffers will start major GCs, counted in the summary's gc line`);
  }
  const g: GcFacts = { major: 0, major_ms: 0, marking_ms: 0, minor: 0, minor_ms: 0, max_pause_ms: 0, heap_sized: sized };
  const count = (list: PerformanceObserverEntryList | PerformanceEntry[]) => {
    for (const e of Array.isArray(list) ? list : list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        g.major++;
        g.major_ms += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) g.marking_ms += e.duration;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        g.minor++;
        g.minor_ms += e.duration;
      }
      g.max_pause_ms = Math.max(g.max_pause_ms, e.duration);
    }
  };
  const obs = new PerformanceObserver(count);
  obs.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      // Node stamps a GC's entry a turn later: let the last ones in before counting.
      await new Promise((r) => setImmediate(r));
      count(obs.takeRecords());
      obs.disconnect();
      const r = (v: number) => Math.round(v * 100) / 100;
      return { ...g, major_ms: r(g.major_ms), marking_ms: r(g.marking_ms), minor_ms: r(g.minor_ms), max_pause_ms: r(g.max_pause_ms) };
    },
  };
}
