// Runs inside a pool worker: creates stage instances from implementation modules and runs
// their calls, transferring output buffers back without copies.
import { parentPort, workerData } from 'node:worker_threads';
import { stateOf, type StateSnapshot } from '../xnode/state.js';
import type { StageFn, StageInstance, WorkerModule } from '../xnode/types.js';
import { transferables } from './transfer.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { bytesOf, COPY_LIMIT, WorkerEnd, type ChannelMemory } from './channel.js';

const port = parentPort!;
const stages = new Map<number, StageInstance>();
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
const channel = new WorkerEnd((workerData as { channel: ChannelMemory }).channel);

port.on('message', (m: ToWorker) => {
  void handle(m, false);
});
channel.onRequest((m) => void handle({ op: 'run', ...m }, true));

/** The result of a call: back the way it came when small, else posted with its buffers moved. */
function done(m: Extract<FromWorker, { op: 'done' }>, viaChannel: boolean, transfer?: ArrayBuffer[]): void {
  if (viaChannel && bytesOf(transfer) <= COPY_LIMIT && channel.reply({ call: m.call, outputs: m.outputs, error: m.error })) return;
  post(m, transfer);
}

async function handle(m: ToWorker, viaChannel: boolean): Promise<void> {
  switch (m.op) {
    case 'create':
      try {
        const mod = (await import(m.module)) as { default: WorkerModule };
        const made = await mod.default.create({
          ...m.ctx,
          log: (message) => post({ op: 'log', id: m.id, message }),
          count: (name, n = 1) => post({ op: 'count', name, n }),
          summary: (section, data) => post({ op: 'summary', section, data }),
        });
        const inst = typeof made === 'function' ? { process: made as StageFn } : made;
        stages.set(m.id, inst);
        post({ op: 'created', id: m.id, state: stateOf(inst) !== undefined });
      } catch (e) {
        post({ op: 'failed', id: m.id, error: e instanceof Error ? e.message : String(e) });
      }
      return;
    case 'run': {
      const stage = stages.get(m.id)!;
      try {
        let out = stage.process(m.inputs, m.frame);
        if (out instanceof Promise) out = await out;
        done({ op: 'done', call: m.call, outputs: out }, viaChannel, out ? transferables(out) : undefined);
      } catch (e) {
        done({ op: 'done', call: m.call, outputs: null, error: e instanceof Error ? e.message : String(e) }, viaChannel);
      }
      return;
    }
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
    case 'close':
      port.close();
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
