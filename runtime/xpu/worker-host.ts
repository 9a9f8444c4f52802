// Runs inside a pool worker: creates stage instances from implementation modules and runs
// their calls, transferring output buffers back without copies.
import { parentPort, workerData } from 'node:worker_threads';
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
        stages.set(m.id, typeof made === 'function' ? { process: made as StageFn } : made);
        post({ op: 'created', id: m.id });
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
    case 'close':
      port.close();
  }
}
