// The message codec of the module-level baseline: what crosses between two ROS2 nodes.
// ROS2 message types are written as CDR (the ROS2 interop's message registry); `xauto/*`
// types have no .msg definition, so they go through v8 serialization, as a node would have
// to do for a custom type. A value a CDR writer cannot take (a stage emitting a ROS2 type
// in a looser shape) falls back to v8 for that type once, logged and counted, rather than
// stopping the pipeline.
import { deserialize, serialize } from 'node:v8';
import type { MessageCodec } from '../exec/executor.js';
import { messageRegistry } from '../ros2/messages.js';
import { counters } from '../trace/counters.js';

const CDR = 0;
const V8 = 1;

export class ModuleCodec implements MessageCodec {
  private readonly v8Types = new Set<string>();

  constructor(private readonly log: (line: string) => void = (l) => process.stderr.write(l + '\n')) {}

  encode(type: string, msg: unknown): Uint8Array {
    if (!type.startsWith('xauto/') && !this.v8Types.has(type)) {
      try {
        const body = messageRegistry().serialize(type, msg);
        return tagged(CDR, body);
      } catch (e) {
        this.v8Types.add(type);
        counters.add('schedule.codec_v8_fallback');
        this.log(`codec: ${type} values do not fit its CDR layout (${e instanceof Error ? e.message : String(e)}); serializing them with v8`);
      }
    }
    return tagged(V8, serialize(msg));
  }

  decode(type: string, bytes: Uint8Array): unknown {
    const body = bytes.subarray(1);
    if (bytes[0] === CDR) return messageRegistry().deserialize(type, body);
    return deserialize(body);
  }
}

function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
}
