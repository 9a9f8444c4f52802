// `xauto topic list | info | echo | pub | hz`: ROS2's `ros2 topic` over xauto's transports.
import type { Argv, CommandModule } from 'yargs';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors.js';
import {
  DdsUnavailable, MessageDecodeError, MessageTypeError, MessageValueError, QosError, Ros2NameError, RclnodejsUnavailable,
  canonicalType, messageToYaml, normalizeTopic, openRos2, resolveQos, toMessage,
  type QosProfile, type Ros2Context,
} from '../ros2/index.js';

interface CommonArgs {
  domain?: number;
  transport: 'dds' | 'rclnodejs' | 'auto';
  'msg-path': string[];
}

const USER_ERRORS = [DdsUnavailable, MessageTypeError, MessageValueError, MessageDecodeError, QosError, Ros2NameError, RclnodejsUnavailable];

function common<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('domain', { type: 'number', describe: 'DDS domain (default: $ROS_DOMAIN_ID or 0)' })
    .option('transport', { choices: ['dds', 'rclnodejs', 'auto'] as const, default: 'auto' as const, describe: 'native Cyclone DDS, rclnodejs (sourced ROS2), or auto' })
    .option('msg-path', { type: 'string', array: true, default: [] as string[], describe: 'extra .msg folders laid out as <dir>/<pkg>/msg/<Type>.msg' }) as unknown as Argv<T & CommonArgs>;
}

/** Opens a context for one command, turns user-caused errors into UserError, always closes. */
async function withRos2(args: CommonArgs, fn: (ctx: Ros2Context) => Promise<void>): Promise<void> {
  let ctx: Ros2Context | undefined;
  try {
    ctx = await openRos2({ domainId: args.domain, transport: args.transport, nodeName: 'xauto_topic' });
    for (const dir of args['msg-path']) ctx.registry.addSearchPath(dir);
    await fn(ctx);
  } catch (e) {
    if (USER_ERRORS.some((c) => e instanceof c)) throw new UserError((e as Error).message);
    throw e;
  } finally {
    ctx?.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when SIGINT/SIGTERM arrives (or `done` resolves first). */
function untilInterrupted(done: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void done.then(stop, stop);
  });
}

/** The type of `topic` as announced on the graph, waiting up to `timeoutMs` for discovery. */
async function discoverType(ctx: Ros2Context, topic: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await ctx.topics()).find((x) => x.name === topic && x.publishers > 0);
    if (t && t.types[0]) {
      if (t.types.length > 1) throw new UserError(`${topic}: published with several types (${t.types.join(', ')}); give the type explicitly`);
      return t.types[0];
    }
    if (Date.now() >= deadline) throw new UserError(`${topic}: no publisher found within ${timeoutMs / 1000}s; give the message type explicitly to wait for one`);
    await sleep(50);
  }
}

/** QoS for a subscriber: the one asked for, else one compatible with every discovered publisher (as ros2 echo does). */
async function adaptedQos(ctx: Ros2Context, topic: string, asked: string | undefined): Promise<QosProfile> {
  if (asked) return resolveQos(asked);
  const pubs = (await ctx.endpoints()).filter((e) => e.kind === 'publisher' && e.topic === topic);
  const qos = resolveQos('default');
  if (pubs.length > 0) {
    if (pubs.some((p) => p.qos.reliability === 'best_effort')) qos.reliability = 'best_effort';
    if (pubs.every((p) => p.qos.durability === 'transient_local')) qos.durability = 'transient_local';
  }
  return qos;
}

// ---- list ----
interface ListArgs extends CommonArgs { 'show-types': boolean; 'count-topics': boolean; 'spin-time': number; all: boolean }
const list: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List topics on the graph',
  builder: (y) => common(y)
    .option('show-types', { alias: 't', type: 'boolean', default: false, describe: 'show each topic\'s type' })
    .option('count-topics', { alias: 'c', type: 'boolean', default: false, describe: 'print only the number of topics' })
    .option('spin-time', { type: 'number', default: 1, describe: 'seconds to wait for discovery' })
    .option('all', { type: 'boolean', default: false, describe: 'also list hidden topics and plain DDS topics (not rt/...)' }) as Argv<ListArgs>,
  handler: (args) => withRos2(args, async (ctx) => {
    await sleep(args['spin-time'] * 1000);
    // Like ros2: ROS2 topics only, without hidden ones (a token starting with '_').
    const topics = (await ctx.topics()).filter((t) => args.all || (t.name.startsWith('/') && !/\/_/.test(t.name)));
    if (args['count-topics']) process.stdout.write(`${topics.length}\n`);
    else if (topics.length === 0) {
      // ros2 prints nothing here; say why instead (on stderr, so scripts still read an empty list).
      process.stderr.write(`xauto: no topics discovered on DDS domain ${args.domain ?? process.env.ROS_DOMAIN_ID ?? 0} within ${args['spin-time']} s${args.all ? '' : ' (hidden topics are left out; --all lists them)'}\n`);
    } else for (const t of topics) process.stdout.write(args['show-types'] ? `${t.name} [${t.types.join(', ')}]\n` : `${t.name}\n`);
  }),
};

// ---- info ----
interface InfoArgs extends CommonArgs { topic: string; verbose: boolean; 'spin-time': number }
const info: CommandModule<object, InfoArgs> = {
  command: 'info <topic>',
  describe: 'Type and endpoints of a topic',
  builder: (y) => common(y)
    .positional('topic', { type: 'string', demandOption: true })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'list every endpoint with its QoS' })
    .option('spin-time', { type: 'number', default: 1, describe: 'seconds to wait for discovery' }) as Argv<InfoArgs>,
  handler: (args) => withRos2(args, async (ctx) => {
    const topic = normalizeTopic(args.topic);
    await sleep(args['spin-time'] * 1000);
    const eps = (await ctx.endpoints()).filter((e) => e.topic === topic);
    if (eps.length === 0) throw new UserError(`${topic}: unknown topic (nothing publishes or subscribes to it)`);
    const types = [...new Set(eps.map((e) => e.type))];
    const lines = [
      `Type: ${types.join(', ')}`,
      `Publisher count: ${eps.filter((e) => e.kind === 'publisher').length}`,
      `Subscription count: ${eps.filter((e) => e.kind === 'subscriber').length}`,
    ];
    if (args.verbose) {
      for (const e of eps) {
        lines.push('', `Endpoint type: ${e.kind === 'publisher' ? 'PUBLISHER' : 'SUBSCRIPTION'}`, `Participant: ${e.participant}`, `Topic type: ${e.type}`,
          'QoS profile:', `  Reliability: ${e.qos.reliability ?? '?'}`, `  History (Depth): ${e.qos.history ?? '?'} (${e.qos.depth ?? '?'})`,
          `  Durability: ${e.qos.durability ?? '?'}`, `  Deadline: ${e.qos.deadlineMs !== undefined ? `${e.qos.deadlineMs} ms` : 'infinite'}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }),
};

// ---- echo ----
interface EchoArgs extends CommonArgs { topic: string; type?: string; once: boolean; times?: number; qos?: string; full: boolean; json: boolean; timeout: number }
const echo: CommandModule<object, EchoArgs> = {
  command: 'echo <topic> [type]',
  describe: 'Print messages of a topic',
  builder: (y) => common(y)
    .positional('topic', { type: 'string', demandOption: true })
    .positional('type', { type: 'string', describe: 'message type, e.g. std_msgs/msg/String (default: as discovered)' })
    .option('once', { type: 'boolean', default: false, describe: 'print one message and exit' })
    .option('times', { type: 'number', describe: 'print N messages and exit' })
    .option('qos', { type: 'string', describe: 'QoS profile or spec (default: compatible with the publishers)' })
    .option('full', { type: 'boolean', default: false, describe: 'print long arrays in full' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line instead of YAML' })
    .option('timeout', { type: 'number', default: 5, describe: 'seconds to wait for a publisher when the type is not given' }) as Argv<EchoArgs>,
  handler: (args) => withRos2(args, async (ctx) => {
    const topic = normalizeTopic(args.topic);
    const type = args.type ? canonicalType(args.type) : await discoverType(ctx, topic, args.timeout * 1000);
    ctx.registry.compile(type);
    const qos = await adaptedQos(ctx, topic, args.qos);
    const limit = args.once ? 1 : args.times;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UserError(`--times: expected a positive integer, got ${limit}`);
    ctx.events.subscribe((e) => {
      if (e.event.kind !== 'matched') process.stderr.write(`xauto topic echo: ${e.message}\n`);
    });
    let count = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const sub = ctx.subscribe(topic, type, qos, {
      onMalformed: (err) => process.stderr.write(`xauto topic echo: dropped a malformed sample: ${err.message}\n`),
    }).subscribe((msg) => {
      if (limit !== undefined && count >= limit) return;
      count++;
      process.stdout.write(args.json ? `${JSON.stringify(msg, jsonReplacer)}\n` : `${messageToYaml(msg, { full: args.full })}\n---\n`);
      if (limit !== undefined && count >= limit) finish();
    });
    await untilInterrupted(done);
    sub.unsubscribe();
    // What never reached the screen, counted (malformed samples include those refused on arrival).
    const st = ctx.stats();
    if (st.dropped_malformed + st.sample_lost + st.sample_rejected + st.history_overwritten > 0) {
      process.stderr.write(
        `xauto topic echo: ${count} printed, ${st.dropped_malformed} malformed dropped, ${st.sample_lost} lost, ${st.sample_rejected} rejected, ` +
          `${st.history_overwritten} pushed out of the history before printing\n`,
      );
    }
  }),
};

function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
  return v;
}

// ---- pub ----
interface PubArgs extends CommonArgs { topic: string; type: string; values: string; rate: number; times?: number; once: boolean; qos?: string; wait: number; 'keep-alive': number; 'print-messages': boolean }
const pub: CommandModule<object, PubArgs> = {
  command: 'pub <topic> <type> [values]',
  describe: 'Publish a message (YAML values, as `ros2 topic pub` takes them)',
  builder: (y) => common(y)
    .positional('topic', { type: 'string', demandOption: true })
    .positional('type', { type: 'string', demandOption: true, describe: 'message type, e.g. std_msgs/msg/String' })
    .positional('values', { type: 'string', default: '{}', describe: 'field values in YAML, e.g. "{data: hi}"' })
    .option('rate', { alias: 'r', type: 'number', default: 1, describe: 'publishing rate in Hz' })
    .option('times', { alias: 't', type: 'number', describe: 'publish N times and exit' })
    .option('once', { alias: '1', type: 'boolean', default: false, describe: 'publish once and exit' })
    .option('qos', { type: 'string', describe: 'QoS profile or spec (default: default)' })
    .option('wait', { type: 'number', default: 5, describe: 'with --once/--times: seconds to wait for a subscriber first' })
    .option('keep-alive', { type: 'number', default: 0.1, describe: 'seconds to stay up after the last message' })
    .option('print-messages', { type: 'boolean', default: true, describe: 'print each message sent' }) as Argv<PubArgs>,
  handler: (args) => withRos2(args, async (ctx) => {
    const topic = normalizeTopic(args.topic);
    const type = canonicalType(args.type);
    let value: unknown;
    try {
      value = parseYaml(args.values);
    } catch (e) {
      throw new UserError(`values '${args.values}': not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    if (value === null || value === undefined) value = {};
    const msg = toMessage(ctx.registry, type, value, type);
    const times = args.once ? 1 : args.times;
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) throw new UserError(`--times: expected a positive integer, got ${times}`);
    if (!(args.rate > 0)) throw new UserError(`--rate: expected a positive number of Hz, got ${args.rate}`);
    const publisher = ctx.publisher(topic, type, args.qos);
    ctx.events.subscribe((e) => {
      if (e.event.kind === 'incompatible_qos') process.stderr.write(`xauto topic pub: ${e.message}\n`);
    });
    process.stdout.write('publisher: beginning loop\n');
    if (times !== undefined && !(await publisher.waitForSubscribers(1, args.wait * 1000))) {
      process.stderr.write(`xauto topic pub: no subscriber on ${topic} after ${args.wait}s; publishing anyway\n`);
    }
    const period = 1000 / args.rate;
    let stop = false;
    const stopped = untilInterrupted(new Promise<void>(() => {})).then(() => (stop = true));
    for (let i = 1; !stop && (times === undefined || i <= times); i++) {
      const start = Date.now();
      publisher.publish(msg);
      if (args['print-messages']) process.stdout.write(`publishing #${i}: ${messageToYaml(msg).replace(/\n/g, '\n  ')}\n\n`);
      if (times !== undefined && i === times) break;
      await Promise.race([sleep(Math.max(0, period - (Date.now() - start))), stopped]);
    }
    await publisher.flush(2000);
    await sleep(args['keep-alive'] * 1000);
    publisher.close();
  }),
};

// ---- hz ----
interface HzArgs extends CommonArgs { topic: string; type?: string; window: number; reports?: number; qos?: string; timeout: number }
const hz: CommandModule<object, HzArgs> = {
  command: 'hz <topic> [type]',
  describe: 'Print the publishing rate of a topic',
  builder: (y) => common(y)
    .positional('topic', { type: 'string', demandOption: true })
    .positional('type', { type: 'string', describe: 'message type (default: as discovered)' })
    .option('window', { alias: 'w', type: 'number', default: 10000, describe: 'messages in the averaging window' })
    .option('reports', { type: 'number', describe: 'exit after N reports (one per second)' })
    .option('qos', { type: 'string', describe: 'QoS profile or spec (default: compatible with the publishers)' })
    .option('timeout', { type: 'number', default: 5, describe: 'seconds to wait for a publisher when the type is not given' }) as Argv<HzArgs>,
  handler: (args) => withRos2(args, async (ctx) => {
    const topic = normalizeTopic(args.topic);
    const type = args.type ? canonicalType(args.type) : await discoverType(ctx, topic, args.timeout * 1000);
    const qos = await adaptedQos(ctx, topic, args.qos);
    const window = Math.max(2, Math.floor(args.window));
    // Arrival times in a ring buffer: no per-message allocation or shifting.
    const ring = new Float64Array(window);
    let n = 0;
    const sub = ctx.subscribeRaw(topic, type, qos).subscribe(() => {
      ring[n++ % window] = performance.now();
    });
    let reports = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    let lastCount = 0;
    const timer = setInterval(() => {
      const count = Math.min(n, window);
      if (count < 2 || n === lastCount) {
        process.stdout.write('no new messages\n');
      } else {
        lastCount = n;
        const first = n - count;
        let min = Infinity;
        let max = 0;
        let sum = 0;
        let sumSq = 0;
        for (let i = first + 1; i < n; i++) {
          const d = (ring[i % window]! - ring[(i - 1) % window]!) / 1000;
          min = Math.min(min, d);
          max = Math.max(max, d);
          sum += d;
          sumSq += d * d;
        }
        const k = count - 1;
        const mean = sum / k;
        const std = Math.sqrt(Math.max(0, sumSq / k - mean * mean));
        process.stdout.write(`average rate: ${(1 / mean).toFixed(3)}\n\tmin: ${min.toFixed(3)}s max: ${max.toFixed(3)}s std dev: ${std.toFixed(5)}s window: ${count}\n`);
      }
      if (args.reports !== undefined && ++reports >= args.reports) finish();
    }, 1000);
    await untilInterrupted(done);
    clearInterval(timer);
    sub.unsubscribe();
  }),
};

export const topicCommand: CommandModule<object, object> = {
  command: 'topic <action>',
  describe: 'ROS2 topics: list | info | echo | pub | hz',
  builder: (y: Argv) =>
    y
      .command(list as unknown as CommandModule)
      .command(info as unknown as CommandModule)
      .command(echo as unknown as CommandModule)
      .command(pub as unknown as CommandModule)
      .command(hz as unknown as CommandModule)
      .demandCommand(1, 'Give a topic action: list, info, echo, pub or hz'),
  handler: () => {},
};
