// Deterministic replay: a launch file's graph with its sources replaced by readers of a
// recording. Each source stage keeps its name, outputs and rate but runs a `replay`
// implementation on the event loop that returns, frame after frame, the messages the
// recording holds for that source's topics (grouped by frame number, in recorded order).
// The rest of the graph and its plan are untouched.
import type { ExecPlan } from '../exec/plan.js';
import type { Graph, Stage } from '../graph/graph.js';
import type { InProcessImplSpec, PortValues, StageFn } from '../xnode/types.js';
import type { XpuInfo } from '../xpu/types.js';
import { Recording, RecordingError, type RecordedMessage } from './reader.js';

export interface ReplaySource {
  stage: string;
  topics: string[];
  /** Frames the recording holds for it. */
  frames: number;
}

export interface ReplaySetup {
  graph: Graph;
  plan: ExecPlan;
  sources: ReplaySource[];
  /** Frames every source can replay (the fewest any source has: joins stay aligned). */
  frames: number;
}

export const REPLAY_IMPL = 'replay';

/** One source's messages, a frame (run of equal frame numbers) at a time. */
function frameReader(rec: Recording, topics: string[]): () => Promise<RecordedMessage[] | undefined> {
  const it = rec.messages(topics);
  let held: RecordedMessage | undefined;
  let done = false;
  return async () => {
    if (done && !held) return undefined;
    const group: RecordedMessage[] = [];
    if (held) group.push(held);
    held = undefined;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      if (group.length && r.value.seq !== group[0]!.seq) {
        held = r.value;
        break;
      }
      group.push(r.value);
    }
    return group.length ? group : undefined;
  };
}

function replayImpl(rec: Recording, stage: Stage, topics: string[]): InProcessImplSpec {
  const portOf = new Map(stage.outputs.filter((o) => topics.includes(o.topic)).map((o) => [o.topic, o.port]));
  return {
    name: REPLAY_IMPL,
    xpu: '*',
    backend: 'main',
    // Each executor gets a reader of its own from the first frame (a warm-up replays too).
    create: (): StageFn => {
      const next = frameReader(rec, topics);
      return async (): Promise<PortValues | null> => {
        const group = await next();
        if (!group) return null;
        const out: PortValues = {};
        for (const m of group) out[portOf.get(m.topic)!] = Recording.value(m);
        return out;
      };
    },
  };
}

/** The graph and plan with every source reading `rec`; errors name what the recording lacks. */
export function replayGraph(graph: Graph, plan: ExecPlan, rec: Recording, xpus: XpuInfo[]): ReplaySetup {
  const main = xpus.find((x) => x.real && x.backend === 'main');
  if (!main) throw new RecordingError('replay runs its sources on the event loop, and this host reports no main XPU');
  const recorded = new Set(rec.channels.map((c) => c.topic));
  const sources: ReplaySource[] = [];
  const stages = graph.stages.map((s) => {
    if (!graph.sources.includes(s.index)) return s;
    const topics = s.outputs.map((o) => o.topic).filter((t) => recorded.has(t));
    for (const o of s.outputs) {
      const readers = graph.topics.get(o.topic)?.subscribers ?? [];
      if (!recorded.has(o.topic) && readers.length) {
        throw new RecordingError(
          `${rec.file}: no messages on ${o.topic} (published by source '${s.name}', read by ${readers.map((r) => `'${graph.stages[r.stage]!.name}'`).join(', ')}); ` +
            `the recording holds ${[...recorded].join(', ') || 'no topic'}`,
        );
      }
    }
    const frames = Math.max(0, ...topics.map((t) => rec.channel(t)!.messages));
    sources.push({ stage: s.name, topics, frames });
    return { ...s, impls: [replayImpl(rec, s, topics)] };
  });
  const placements = plan.placements.map((p, i) => (graph.sources.includes(i) ? { ...p, impl: REPLAY_IMPL, xpu: main.id, group: undefined } : p));
  return {
    graph: { ...graph, stages },
    plan: { ...plan, placements },
    sources,
    frames: sources.length ? Math.min(...sources.map((s) => s.frames)) : 0,
  };
}
