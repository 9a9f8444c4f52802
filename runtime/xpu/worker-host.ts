// Runs inside a pool worker: creates stage instances from implementation modules and runs
// their calls, transferring output buffers back without copies. While nothing it started
// awaits the event loop, the worker sleeps in Atomics.wait (channel.ts) and takes requests and
// posted messages itself when woken; with something pending (an async stage, a create) it
// waits on the event loop instead, which then also serves the slot and the port.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { stateOf, type StateSnapshot } from '../xnode/state.js';
import type { StageFn, StageInstance, WorkerModule } from '../xnode/types.js';
import { transferables } from './transfer.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { bytesOf, COPY_LIMIT, WorkerEnd, type ChannelMemory } from './channel.js';
import { setThreadNice } from '../util/thread-nice.js';

const port = parentPort!;
const stages = new Map<number, StageInstance>();
/** Per stage: the nice its calls run at (ImplContext.nice); this thread's own now. */
const niceOf = new Map<number, number>();
let nice = 0;
/** The nice this thread waits at: its most urgent stage's, so a wake-up for that one's job does not wait for a core. */
let idleNice = 0;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
const channel = new WorkerEnd((workerData as { channel: ChannelMemory }).channel);

/**
 * How long an idle worker sleeps before its event loop gets a turn anyway (ms): what a stage
 * left on it (its own timers) waits at most that long; requests and messages wake it at once.
 */
const IDLE_TURN_MS = 20;
/** 'loop': the worker waits on its event loop even when idle (the slower way, kept for the bench's comparison). */
const sleeps = (workerData as { idle?: string }).idle !== 'loop';
/** Calls begun and not yet finished that await the event loop. */
let pending = 0;
let awaitingWake = false;
let stopping = false;

// Messages the event loop delivers (while it runs) take the same path as those taken when woken.
port.on('message', (m: ToWorker) => track(handle(m, false)));

function track(p: Promise<void> | undefined): void {
  if (!p) return;
  pending++;
  void p.finally(() => {
    if (--pending === 0) setImmediate(serve);
  });
}

/** Takes every request and message there, then sleeps until the next (see the top). */
function serve(): void {
  for (;;) {
    if (stopping || channel.closed) return;
    const seen = channel.wakes;
    for (let r = channel.request(); r; r = channel.request()) track(handle({ op: 'run', ...r }, true));
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) track(handle(m.message as ToWorker, false));
    if (channel.wakes !== seen) continue;
    if (pending > 0 || !sleeps) {
      if (awaitingWake) return;
      const w = channel.woken(seen);
      if (!w) continue;
      awaitingWake = true;
      void w.then(() => {
        awaitingWake = false;
        serve();
      });
      return;
    }
    nice = setThreadNice(idleNice, nice);
    if (!channel.sleep(seen, IDLE_TURN_MS)) {
      setImmediate(serve);
      return;
    }
  }
}
setImmediate(serve);

/** The result of a call: back the way it came when small, else posted with its buffers moved. */
function done(m: Extract<FromWorker, { op: 'done' }>, viaChannel: boolean, transfer?: ArrayBuffer[]): void {
  if (viaChannel && bytesOf(transfer) <= COPY_LIMIT && channel.reply({ call: m.call, outputs: m.outputs, error: m.error })) return;
  post(m, transfer);
}

/** Handles one call; a promise when it goes on past this turn of the loop. */
function handle(m: ToWorker, viaChannel: boolean): Promise<void> | undefined {
  switch (m.op) {
    case 'run': {
      const stage = stages.get(m.id)!;
      nice = setThreadNice(niceOf.get(m.id) ?? 0, nice);
      try {
        const out = stage.process(m.inputs, m.frame);
        if (out instanceof Promise) return out.then((o) => ran(m.call, o, viaChannel), (e: unknown) => ranFailed(m.call, e, viaChannel));
        ran(m.call, out, viaChannel);
      } catch (e) {
        ranFailed(m.call, e, viaChannel);
      }
      return undefined;
    }
    case 'close':
      stopping = true;
      port.close();
      return undefined;
    default:
      return handleAsync(m, viaChannel);
  }
}

function ran(call: number, out: Awaited<ReturnType<StageFn>>, viaChannel: boolean): void {
  done({ op: 'done', call, outputs: out }, viaChannel, out ? transferables(out) : undefined);
}

function ranFailed(call: number, e: unknown, viaChannel: boolean): void {
  done({ op: 'done', call, outputs: null, error: e instanceof Error ? e.message : String(e) }, viaChannel);
}

async function handleAsync(m: ToWorker, _viaChannel: boolean): Promise<void> {
  switch (m.op) {
    case 'create':
      try {
        for (const c of m.codecs) await import(c);
        const mod = (await import(m.module)) as { default: WorkerModule };
        const made = await mod.default.create({
          ...m.ctx,
          log: (message) => post({ op: 'log', id: m.id, message }),
          count: (name, n = 1) => post({ op: 'count', name, n }),
          summary: (section, data) => post({ op: 'summary', section, data }),
        });
        const inst = typeof made === 'function' ? { process: made as StageFn } : made;
        stages.set(m.id, inst);
        niceOf.set(m.id, m.ctx.nice ?? 0);
        idleNice = Math.min(...niceOf.values());
        post({ op: 'created', id: m.id, state: stateOf(inst) !== undefined });
      } catch (e) {
        post({ op: 'failed', id: m.id, error: e instanceof Error ? e.message : String(e) });
      }
      return;
    case 'finish':
      try {
        await stages.get(m.id)?.finish?.();
        await stages.get(m.id)?.close?.();
        post({ op: 'done', call: m.call, outputs: null });
      } catch (e) {
        post({ op: 'done', call: m.call, outputs: null, error: e instanceof Error ? e.message : String(e) });
      }
      return;
    case 'snapshot':
    case 'restore':
      // Synchronous, on its turn among the port's messages: the stage's earlier calls are done.
      try {
        const state = stateOf(stages.get(m.id));
        if (!state) throw new Error('the instance declares no state');
        if (m.op === 'restore') {
          state.restore(m.state);
          post({ op: 'state', call: m.call });
        } else {
          const snap = state.snapshot();
          post({ op: 'state', call: m.call, state: snap }, ownBuffers(snap));
        }
      } catch (e) {
        post({ op: 'state', call: m.call, error: e instanceof Error ? e.message : String(e) });
      }
      return;
  }
}

/** The buffers a snapshot's arrays fill whole (its copies): moved back, not copied again. */
function ownBuffers(s: StateSnapshot): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of Object.values(s.arrays)) {
    const b = a.buffer;
    if (b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength && b.byteLength > 0 && !out.includes(b)) out.push(b);
  }
  return out;
}
