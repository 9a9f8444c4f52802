// Exports trace events as Chrome trace JSON (opens in Perfetto or chrome://tracing): one
// track per XPU, one slice per stage run, queue waits on a track of their own per stage.
import { EventKind, type Tracer } from './tracer.js';

interface ChromeEvent {
  name: string;
  cat: string;
  ph: 'X' | 'M';
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

export function chromeTrace(tracer: Tracer, stageNames: string[], xpuNames: string[]): { traceEvents: ChromeEvent[]; displayTimeUnit: 'ms' } {
  const events: ChromeEvent[] = [];
  xpuNames.forEach((name, tid) => events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: 1, tid, args: { name: `xpu ${name}` } }));
  stageNames.forEach((name, i) => events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: 2, tid: i, args: { name: `wait ${name}` } }));
  events.push({ name: 'process_name', cat: '__metadata', ph: 'M', pid: 1, tid: 0, args: { name: 'XPUs' } });
  events.push({ name: 'process_name', cat: '__metadata', ph: 'M', pid: 2, tid: 0, args: { name: 'queue waits' } });
  for (const e of tracer.events()) {
    const name = stageNames[e.stage] ?? String(e.stage);
    const ts = e.start * 1000;
    const dur = Math.max(0, (e.end - e.start) * 1000);
    if (e.kind === EventKind.Run) events.push({ name, cat: 'run', ph: 'X', ts, dur, pid: 1, tid: e.xpu, args: { frame: e.seq } });
    else if (e.kind === EventKind.Wait && dur > 0) events.push({ name: `${name} waits`, cat: 'wait', ph: 'X', ts, dur, pid: 2, tid: e.stage });
    else if (e.kind !== EventKind.Wait) events.push({ name: `${name} ${EventKind[e.kind]}`, cat: 'other', ph: 'X', ts, dur, pid: 1, tid: e.xpu, args: { frame: e.seq } });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
