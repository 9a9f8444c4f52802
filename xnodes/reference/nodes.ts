// The reference system's node kinds (reference_system/nodes/rclcpp/*.hpp) as stage
// instances, shared by every implementation: only the number cruncher differs (JS on the
// main thread or in a worker, C++ on the libuv pool). Each keeps its own sequence counters,
// as a reference node does, so the metrics see the same gaps.
import type { ImplContext, PortValues, StageInstance, StageResult } from '../../runtime/xnode/types.js';
import { emptyMessage, mergeHistory, nodeStamp, nowNs, SequenceTracker, setSample, type Message4kb } from './message.js';
import { commandCallback, commandClosed, commandOpened, CommandMetrics } from './metrics.js';
import './wire.js'; // Message4kb's layout on the worker wire

/** A number cruncher: sync (JS) or a promise (native). */
export type Crunch = (limit: number) => number | Promise<number>;

/** Cyclic input ports, in the order the reference merges them (its `inputs` list). */
export const CYCLIC_INPUTS = ['in_0', 'in_1', 'in_2', 'in_3', 'in_4', 'in_5', 'in_6', 'in_7'] as const;
/** The section of the run summary the command nodes report into. */
export const SECTION = 'reference_system';

const nodeName = (ctx: ImplContext) => (ctx.params.node as string) || ctx.name;
const limitOf = (ctx: ImplContext) => ctx.params.number_crunch_limit as number;

/** Runs `then` with the cruncher's result, without a promise when it is synchronous. */
function crunched(crunch: Crunch, limit: number, then: (result: number) => StageResult): StageResult | Promise<StageResult> {
  const r = crunch(limit);
  return typeof r === 'number' ? then(r) : r.then(then);
}

function withResult(m: Message4kb, result: number): Message4kb {
  m.data[0] = BigInt(result);
  return m;
}

/** Sensor: a timer publishes a message whose history is this node alone. */
export function sensor(ctx: ImplContext): StageInstance {
  const node = nodeStamp(nodeName(ctx));
  let sequence = 0;
  return {
    process() {
      const out = emptyMessage();
      setSample(node, sequence++, 0, nowNs(), out);
      return { out };
    },
  };
}

/** Transform, and one connection of an intersection: crunch, then publish with the input's history. */
export function transform(ctx: ImplContext, crunch: Crunch): StageInstance {
  const node = nodeStamp(nodeName(ctx));
  const limit = limitOf(ctx);
  const input = new SequenceTracker();
  let sequence = 0;
  return {
    process(inputs: PortValues) {
      const msg = inputs.in as Message4kb;
      const stamp = nowNs();
      return crunched(crunch, limit, (result) => {
        const out = emptyMessage();
        mergeHistory(out, msg);
        setSample(node, sequence++, input.missed(msg), stamp, out);
        return { out: withResult(out, result) };
      });
    },
  };
}

/**
 * Fusion: runs once both inputs hold a sample and takes both (the XNODE's `latest` join: the
 * newest sample of each, unaligned; taking them is the reference's cache reset), merges both
 * histories.
 */
export function fusion(ctx: ImplContext, crunch: Crunch): StageInstance {
  const node = nodeStamp(nodeName(ctx));
  const limit = limitOf(ctx);
  const trackers = [new SequenceTracker(), new SequenceTracker()] as const;
  let sequence = 0;
  return {
    process(inputs: PortValues) {
      const a = inputs.in_0 as Message4kb | undefined;
      const b = inputs.in_1 as Message4kb | undefined;
      if (!a || !b) return null; // both are trigger inputs: never, unless a caller breaks that
      const stamp = nowNs();
      return crunched(crunch, limit, (result) => {
        const missed = trackers[0].missed(a) + trackers[1].missed(b);
        const out = emptyMessage();
        mergeHistory(out, a);
        mergeHistory(out, b);
        setSample(node, sequence++, missed, stamp, out);
        return { out: withResult(out, result) };
      });
    },
  };
}

/**
 * Cyclic: its timer (the stage is timer-driven) crunches and publishes the histories of the
 * samples its inputs cached since the last tick. The inputs are cleared when taken, so an
 * input handed over is a fresh sample: that is the reference's cache reset.
 */
export function cyclic(ctx: ImplContext, crunch: Crunch): StageInstance {
  const node = nodeStamp(nodeName(ctx));
  const limit = limitOf(ctx);
  const trackers = CYCLIC_INPUTS.map(() => new SequenceTracker());
  let sequence = 0;
  return {
    process(inputs: PortValues) {
      const stamp = nowNs();
      return crunched(crunch, limit, (result) => {
        const out = emptyMessage();
        let missed = 0;
        CYCLIC_INPUTS.forEach((port, k) => {
          const m = inputs[port] as Message4kb | undefined;
          if (!m) return;
          missed += trackers[k]!.missed(m);
          mergeHistory(out, m);
        });
        setSample(node, sequence++, missed, stamp, out);
        return { out: withResult(out, result) };
      });
    },
  };
}

/** Command: a sink that records the reference's statistics and reports them at the end. */
export function command(ctx: ImplContext): StageInstance {
  const metrics = new CommandMetrics(
    nodeName(ctx),
    { nodes: ctx.params.hot_path_nodes as string[], roots: ctx.params.hot_path_roots as string[], sink: ctx.params.hot_path_sink as string },
    ctx.params.behavior_planner as string,
  );
  const skip = ctx.params.skip_first as number;
  const input = new SequenceTracker();
  commandOpened();
  let open = true;
  return {
    process(inputs: PortValues) {
      const msg = inputs.in as Message4kb;
      const now = nowNs();
      input.missed(msg); // computed there too, but left out of the printed statistics
      if (commandCallback() > skip) metrics.record(msg, now);
      return null;
    },
    finish() {
      ctx.summary(SECTION, { [metrics.node]: metrics.report() });
    },
    close() {
      if (open) commandClosed();
      open = false;
    },
  };
}

export const KINDS = { sensor, transform, intersection: transform, fusion, cyclic, command } as const;
export type Kind = keyof typeof KINDS;

/** The kind of a `reference/<kind>` type. */
export function kindOf(type: string): Kind {
  const k = type.split('/')[1] as Kind;
  if (!(k in KINDS)) throw new Error(`unknown reference node kind '${type}'`);
  return k;
}
