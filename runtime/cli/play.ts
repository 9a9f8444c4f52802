// `xauto play FILE.mcap`: publishes a recording's ROS2 topics over DDS at the recorded rate
// (or scaled by --rate), as `ros2 bag play` does. The recorded CDR bytes go out unchanged.
// Channels of xauto's own types (no ROS2 definition) are listed and skipped.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { Recording } from '../record/reader.js';
import { CDR } from '../record/schema.js';
import { openRos2, type Ros2Publisher } from '../ros2/index.js';
import { UserError } from './errors.js';

export interface PlayArgs {
  file: string;
  rate: number;
  topics?: string[];
  /** Wait (up to 10 s) until this many subscribers matched every played topic. */
  waitSubscribers: number;
  loop: boolean;
  /** Seconds to wait before the first message (discovery settling on both sides). */
  delay: number;
}

export interface PlayResult {
  messages: number;
  topics: string[];
  skipped: string[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPlay(a: PlayArgs, log: (line: string) => void = (l) => process.stderr.write(l + '\n'), stop: { stopped: boolean } = { stopped: false }): Promise<PlayResult> {
  if (!(Number.isFinite(a.delay) && a.delay >= 0)) throw new UserError(`--delay ${a.delay}: expected seconds (0 or more)`);
  if (!(Number.isFinite(a.rate) && a.rate > 0)) throw new UserError(`--rate ${a.rate}: expected a positive speed factor (1: as recorded)`);
  const rec = await Recording.open(a.file).catch((e: Error) => {
    throw new UserError(e.message);
  });
  try {
    const wanted = a.topics?.length ? new Set(a.topics) : undefined;
    if (wanted) {
      const unknown = [...wanted].filter((t) => !rec.channel(t));
      if (unknown.length) throw new UserError(`--topics ${unknown.join(', ')}: not in ${a.file}; it holds ${rec.channels.map((c) => c.topic).join(', ')}`);
    }
    const chosen = rec.channels.filter((c) => !wanted || wanted.has(c.topic));
    const played = chosen.filter((c) => c.encoding === CDR);
    const skipped = chosen.filter((c) => c.encoding !== CDR).map((c) => c.topic);
    if (skipped.length) log(`xauto play: not publishing ${skipped.join(', ')} (xauto types, not ROS2 messages)`);
    if (!played.length) throw new UserError(`${a.file}: no ROS2 topic to play${skipped.length ? ` (only xauto types: ${skipped.join(', ')})` : ''}`);
    const ros = await openRos2({ nodeName: 'xauto_play' });
    const pubs = new Map<string, Ros2Publisher>();
    let messages = 0;
    const began = performance.now();
    try {
      for (const c of played) pubs.set(c.topic, ros.publisher(c.topic, c.type, c.qos ?? 'default'));
      if (a.waitSubscribers > 0) {
        const ok = await Promise.all([...pubs.values()].map((p) => p.waitForSubscribers(a.waitSubscribers, 10_000)));
        const missing = [...pubs.keys()].filter((_, i) => !ok[i]);
        if (missing.length) log(`xauto play: no ${a.waitSubscribers} subscriber(s) after 10 s on ${missing.join(', ')}; playing anyway`);
      }
      if (a.delay > 0) await sleep(a.delay * 1000);
      log(`xauto play: ${a.file}: ${played.map((c) => `${c.topic} (${c.type}, ${c.messages})`).join(', ')} at ${a.rate}x`);
      do {
        let first: bigint | undefined;
        const start = performance.now();
        for await (const m of rec.messages(played.map((c) => c.topic))) {
          if (stop.stopped) break;
          first ??= m.logTime;
          const due = start + Number(m.logTime - first) / 1e6 / a.rate;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          pubs.get(m.topic)!.publishRaw(m.data);
          messages++;
        }
      } while (a.loop && !stop.stopped);
      await Promise.all([...pubs.values()].map((p) => p.flush(2000)));
    } finally {
      for (const p of pubs.values()) p.close();
      ros.close();
    }
    const seconds = (performance.now() - began) / 1000;
    log(`xauto play: published ${messages} messages on ${played.length} topics in ${seconds.toFixed(2)} s`);
    return { messages, topics: played.map((c) => c.topic), skipped, seconds };
  } finally {
    await rec.close();
  }
}

export const playCommand: CommandModule<object, PlayArgs> = {
  command: 'play <file>',
  describe: 'Publish an MCAP recording to ROS2 over DDS at its recorded rate',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'MCAP file (from xauto launch --record, or ros2 bag record -s mcap)' })
      .option('rate', { type: 'number', default: 1, describe: 'speed factor (2: twice as fast as recorded)' })
      .option('topics', { type: 'string', array: true, describe: 'only these topics' })
      .option('wait-subscribers', { type: 'number', default: 0, describe: 'first wait (up to 10 s) for this many subscribers on every topic' })
      .option('delay', { type: 'number', default: 0, describe: 'seconds to wait before the first message' })
      .option('loop', { type: 'boolean', default: false, describe: 'play again from the start until Ctrl-C' }) as unknown as Argv<PlayArgs>,
  handler: async (a: ArgumentsCamelCase<PlayArgs>) => {
    const stop = { stopped: false };
    const onSigint = () => (stop.stopped = true);
    process.once('SIGINT', onSigint);
    try {
      await runPlay(a, undefined, stop);
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
