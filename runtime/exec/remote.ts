// Edges between processes of one launch: a topic published in one process and subscribed in
// another travels over DDS as an xauto frame (hidden topic `/_xauto<topic>`), carrying the
// message (v8-serialized, so any xauto type crosses), its origin time and sequence number,
// and a final end-of-stream marker so the receiving process knows when its inputs are done.
import { deserialize, serialize } from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { messageRegistry, type Ros2Context, type Ros2Publisher } from '../ros2/index.js';
import { XautoError } from '../util/errors.js';

const FRAME_TYPE = 'xauto_msgs/msg/Frame';
const FRAME_MSG = `# One message on an edge between two xauto processes.
string type
float64 t0_epoch_ms
int64 seq
bool end
uint8[] data
`;

interface FrameMsg {
  type: string;
  t0_epoch_ms: number;
  seq: bigint | number;
  end: boolean;
  data: Uint8Array;
}

export interface RemoteSender {
  send(value: unknown, t0: number, seq: number): void;
  /** Tells the receivers no more frames come; resolves when they acknowledged (or timed out). */
  end(): Promise<void>;
}

export interface RemoteLinks {
  sender(topic: string, type: string, receivers: number): RemoteSender;
  receive(topic: string, onMessage: (value: unknown, t0: number, seq: number) => void, onEnd: () => void): () => void;
  /** Resolves once every sender sees its receivers (DDS discovery), or rejects naming the topic. */
  connected(timeoutMs?: number): Promise<void>;
}

const hidden = (topic: string) => `/_xauto${topic}`;

export function ddsLinks(ros: Ros2Context): RemoteLinks {
  const registry = messageRegistry();
  if (!registry.has(FRAME_TYPE)) registry.addDefinition(FRAME_TYPE, FRAME_MSG);
  const waits: Array<{ topic: string; pub: Ros2Publisher<FrameMsg>; receivers: number }> = [];
  return {
    sender(topic, type, receivers) {
      const pub = ros.publisher<FrameMsg>(hidden(topic), FRAME_TYPE, { reliability: 'reliable', history: 'keep_last', depth: 16 });
      waits.push({ topic, pub, receivers });
      return {
        send(value, t0, seq) {
          const data = serialize(value);
          pub.publish({ type, t0_epoch_ms: performance.timeOrigin + t0, seq: BigInt(seq), end: false, data });
        },
        async end() {
          pub.publish({ type, t0_epoch_ms: 0, seq: -1n, end: true, data: new Uint8Array(0) });
          await pub.flush(5000);
        },
      };
    },
    receive(topic, onMessage, onEnd) {
      const sub: Subscription = ros
        .subscribe<FrameMsg>(hidden(topic), FRAME_TYPE, { reliability: 'reliable', history: 'keep_last', depth: 16 })
        .subscribe((m) => {
          if (m.end) return onEnd();
          onMessage(deserialize(m.data), m.t0_epoch_ms - performance.timeOrigin, Number(m.seq));
        });
      return () => sub.unsubscribe();
    },
    async connected(timeoutMs = 15000) {
      for (const w of waits) {
        if (!(await w.pub.waitForSubscribers(w.receivers, timeoutMs))) {
          throw new XautoError(`no process subscribed to ${w.topic} within ${timeoutMs / 1000} s (expected ${w.receivers})`);
        }
      }
    },
  };
}
