// Edges between processes of one launch: a topic published in one process and subscribed in
// another travels over DDS as an xauto frame (remote-frame.ts) on a hidden topic of its launch
// instance (`/_xauto/i<instance><topic>`), carrying the message (v8-serialized, so any xauto
// type crosses), its origin time and sequence number, and a final end-of-stream marker with the
// number of frames sent, so the receiving process knows when its inputs are done.
// Input from the network never throws: a frame that fails a check is refused and counted.
import { deserialize, serialize } from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { messageRegistry, type Ros2Context, type Ros2Publisher } from '../ros2/index.js';
import { counters } from '../trace/counters.js';
import { XautoError } from '../util/errors.js';
import {
  checkHeader, checkValue, FRAME_MSG, FRAME_TYPE, hiddenTopic, identityFromEnv, REFUSAL_TEXT, sealFrame,
  type FrameMsg, type LaunchIdentity, type Refusal,
} from './remote-frame.js';

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

export interface LinkOptions {
  identity?: LaunchIdentity;
  /** How long after an end marker a missing frame is waited for (each arrival restarts it). */
  endGraceMs?: number;
  /** One line per first refusal of each reason and topic; default stderr. */
  log?: (line: string) => void;
}

// keep_all: a receiver that stalls (a long main-thread stage, a loaded host) slows the sender
// through reliable flow control instead of losing frames from its history.
const QOS = { reliability: 'reliable', history: 'keep_all', depth: 16 } as const;

export function ddsLinks(ros: Ros2Context, opts: LinkOptions = {}): RemoteLinks {
  const registry = messageRegistry();
  if (!registry.has(FRAME_TYPE)) registry.addDefinition(FRAME_TYPE, FRAME_MSG);
  const id = opts.identity ?? identityFromEnv();
  const endGraceMs = opts.endGraceMs ?? 5000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const waits: Array<{ topic: string; pub: Ros2Publisher<FrameMsg>; receivers: number }> = [];
  const told = new Set<string>();
  const refuse = (topic: string, why: Refusal, detail = ''): void => {
    counters.add(`refused.remote.${why}`);
    const key = `${topic}\u0000${why}`;
    if (told.has(key)) return;
    told.add(key);
    log(`xauto: refused a frame on ${topic}: ${REFUSAL_TEXT[why]}${detail ? ` (${detail})` : ''}; further ones are counted (refused.remote.${why})`);
  };
  return {
    sender(topic, type, receivers) {
      const wire = hiddenTopic(id.instance, topic);
      const pub = ros.publisher<FrameMsg>(wire, FRAME_TYPE, QOS);
      waits.push({ topic, pub, receivers });
      let sent = 0;
      return {
        send(value, t0, seq) {
          const data = serialize(value);
          try {
            pub.publish(sealFrame(id, wire, { type, t0_epoch_ms: performance.timeOrigin + t0, seq: BigInt(seq), end: false, data }));
            sent++;
          } catch (err) {
            // A receiver stalled past the writer's blocking time: this frame is lost, counted here
            // (and not announced in the end marker, so no receiver waits for it).
            counters.add('lost.remote.send_failed');
            if (!told.has(wire)) {
              told.add(wire);
              log(`xauto: sending a frame of ${topic} failed (${(err as Error).message}); further ones are counted (lost.remote.send_failed)`);
            }
          }
        },
        async end() {
          pub.publish(sealFrame(id, wire, { type, t0_epoch_ms: 0, seq: BigInt(sent), end: true, data: new Uint8Array(0) }));
          await pub.flush(5000);
        },
      };
    },
    receive(topic, onMessage, onEnd) {
      const wire = hiddenTopic(id.instance, topic);
      let received = 0;
      let ended = false;
      /** Frames the sender said it sent (lowest end marker not contradicted by arrivals). */
      let expected = Infinity;
      let grace: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (ended) return;
        ended = true;
        clearTimeout(grace);
        if (Number.isFinite(expected) && received < expected) {
          counters.add('lost.remote', expected - received);
          log(`xauto: ${expected - received} frame(s) on ${topic} never arrived (counted as lost.remote)`);
        }
        onEnd();
      };
      const armGrace = (): void => {
        clearTimeout(grace);
        if (Number.isFinite(expected)) grace = setTimeout(finish, endGraceMs);
      };
      const onFrame = (m: FrameMsg): void => {
        const why = checkHeader(id, wire, m, Date.now());
        if (why) return refuse(topic, why);
        if (ended) return refuse(topic, 'after_end');
        if (m.end) {
          const claimed = Number(m.seq);
          if (claimed < received) return refuse(topic, 'bad_end', `claims ${claimed}, ${received} arrived`);
          expected = Math.min(expected, claimed);
          if (received >= expected) return finish();
          return armGrace();
        }
        let value: unknown;
        try {
          value = deserialize(m.data);
        } catch (err) {
          return refuse(topic, 'malformed', (err as Error).message);
        }
        if (!checkValue(value)) return refuse(topic, 'bad_value');
        received++;
        try {
          onMessage(value, m.t0_epoch_ms - performance.timeOrigin, Number(m.seq));
        } catch (err) {
          // A bug downstream must not surface as an unhandled error inside rxjs.
          counters.add('errors.remote_delivery');
          log(`xauto: delivering a frame of ${topic} failed: ${(err as Error).stack ?? String(err)}`);
        }
        if (received >= expected) finish();
        else armGrace();
      };
      const sub: Subscription = ros
        .subscribe<FrameMsg>(wire, FRAME_TYPE, QOS, {
          onMalformed: () => refuse(topic, 'malformed', 'CDR does not decode'),
          onRefused: (n) => counters.add('refused.remote.malformed', n),
        })
        .subscribe({
          next: (m) => {
            try {
              onFrame(m);
            } catch (err) {
              refuse(topic, 'malformed', (err as Error).message);
            }
          },
        });
      return () => {
        clearTimeout(grace);
        sub.unsubscribe();
      };
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
