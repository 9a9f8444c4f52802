// Live migration of one stage between two processes of a launch, while the rest keeps running.
// Both processes hold an instance of the stage. The source process runs it until the move is
// due, then, at the first message for it published while it is idle (a frame boundary: it has
// ended frame F and holds nothing), stops delivering to it (core detach), copies its state
// (runtime/xnode/state.ts) and sends it to the target, and forwards every later message for
// it there (frames > F), in order, over the launch's DDS links. The target queues what arrives
// until the state is in, restores it, then feeds the queue to the stage one message at a time
// (no keep-last queue overflows), in order; duplicates are refused and counted. The stage's
// outputs travel back from the target to the source process's subscribers (and its tap).
// Device buffers the stage owns, and large host state, go by file (migrate-device.ts).
// A stage on a worker thread moves the same way: its state is copied in its worker (queued
// behind its last job there) and put back in the target's worker, by message.
// The pause is how long the first forwarded frame waited: from the hand-over to its start at
// the target (epoch clocks of one host). (Just over 400 lines: both ends of one protocol.)
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Graph } from '../graph/graph.js';
import { counters } from '../trace/counters.js';
import { decodeState, encodeState, onThread, type StageState, type StateSnapshot } from '../xnode/state.js';
import type { Dispatcher } from './core/dispatcher.js';
import type { Clock, Envelope } from './core/types.js';
import type { RemoteLinks, RemoteSender } from './remote.js';
import { HOST_BY_FILE, loadDeviceState, readHostState, removeHandover, saveHandover, type DeviceFiles } from './migrate-device.js';

export interface MigrationSpec {
  /** The stage that moves. */
  stage: number;
  /** This process's part: it runs the stage first and hands it over, or takes it over. */
  role: 'source' | 'target';
  from: string;
  to: string;
  /** The move is due this long after the run began (ms)... */
  atMs?: number;
  /** ...or once the stage's next frame is this one (frames >= it run at the target). */
  atFrame?: number;
}

/** A stage that cannot move as asked (the user's to fix: another stage, implementation or launch). */
export class MigrationError extends Error {}

export interface MigrationContext {
  graph: Graph;
  core: Dispatcher;
  clock: Clock;
  links: RemoteLinks;
  log: (line: string) => void;
  tap?: (topic: string, value: unknown, seq: number) => void;
  /** The state the stage declares here (on this thread or a worker's), if any. */
  state(stage: number): StageState | undefined;
  section(name: string, data: Record<string, unknown>): void;
  /** When the run began (clock ms; 0 before). */
  runStarted(): number;
}

/** What the source sends the target once: the stage's state as of the end of frame `frame`. */
interface Handover {
  stage: string;
  /** The last frame the stage ran at the source (-1: none). */
  frame: number;
  /** When the source stopped delivering to it (epoch ms). */
  at: number;
  /** The encoded host state (null: none), or, when large, the file holding it. */
  state: unknown;
  hostFile?: string;
  /** The device buffers the stage owns, copied into files on this host (migrate-device.ts). */
  device: DeviceFiles;
}

interface Forward {
  sender: RemoteSender;
  /** Set once the topic's end marker went out. */
  ended?: Promise<void>;
}

const TYPE = 'xauto/Migration';
const stateTopic = (name: string) => `/_migrate/${name.replace(/\W/g, '_')}`;
const epochNow = (clock: Clock) => performance.timeOrigin + clock.now();
const round = (v: number) => Math.round(v * 1000) / 1000;

export class Migration {
  private readonly name: string;
  // Source side
  private requested = false;
  private moved = false;
  private lastFrame = -1;
  private forwarded = 0;
  private stateBytes = 0;
  private deviceBytes = 0;
  private deviceDir: string | undefined;
  private stateSender: RemoteSender | undefined;
  private readonly forwards = new Map<string, Forward>();
  private returnsOpen = 0;
  // Target side
  private active = false;
  private restoring = false;
  private handover: Handover | undefined;
  private readonly queue: Array<{ input: number; env: Envelope }> = [];
  private readonly lastSeq = new Map<number, number>();
  private received = 0;
  private queuedDuringMove = 0;
  private delivered = 0;
  private duplicates = 0;
  private pauseMs: number | undefined;
  private restoreMs = 0;
  private readonly onDrained: Array<() => void> = [];

  constructor(
    readonly spec: MigrationSpec,
    private readonly x: MigrationContext,
  ) {
    this.name = x.graph.stages[spec.stage]!.name;
  }

  /** Whether messages for input `input` of `stage` arriving from elsewhere go through here. */
  takes(stage: number): boolean {
    return this.spec.role === 'target' && stage === this.spec.stage;
  }

  /** After the stage instances exist: a stateful stage must declare its state to move with it. */
  check(): void {
    const s = this.x.graph.stages[this.spec.stage]!;
    if (!this.x.state(this.spec.stage) && s.def.stateful) throw new MigrationError(`--migrate ${s.name}: its implementation declares no state (runtime/xnode/state.ts), so it cannot move with it; choose one that does`);
  }

  /** The stage moved away from this process (its report is the target's). */
  movedAway(stage: number): boolean {
    return this.moved && stage === this.spec.stage;
  }

  /**
   * The links this process's part needs: at the source, a forwarder per output feeding the
   * stage (returned, for the executor to publish through), the state sender, and receivers of
   * the stage's outputs; at the target, the state receiver (the stage's inputs and outputs
   * cross processes there as any edge does).
   */
  wire(localInputs: (topic: string) => Array<[number, number]>, unsubscribe: Array<() => void>): { forwarders: Array<{ stage: number; output: number; sender: RemoteSender }>; senders: RemoteSender[] } {
    const { graph, links, core } = this.x;
    const s = graph.stages[this.spec.stage]!;
    if (this.spec.role === 'target') {
      unsubscribe.push(links.receive(stateTopic(s.name), (v) => this.restore(v), () => {}));
      // Outputs nobody elsewhere subscribes to still go back (the source's tap and recording).
      const forwarders = s.outputs
        .map((o, output) => ({ o, output }))
        .filter(({ o }) => !graph.topics.get(o.topic)!.subscribers.some((x) => x.stage !== s.index && graph.stages[x.stage]!.process !== this.spec.to))
        .map(({ o, output }) => ({ stage: s.index, output, sender: links.sender(o.topic, o.spec.type, 1) }));
      return { forwarders, senders: forwarders.map((f) => f.sender) };
    }
    this.stateSender = links.sender(stateTopic(s.name), TYPE, 1);
    const out: Array<{ stage: number; output: number; sender: RemoteSender }> = [];
    const senders: RemoteSender[] = [this.stateSender];
    for (const i of s.inputs) {
      if (this.forwards.has(i.topic)) continue;
      const f: Forward = { sender: links.sender(i.topic, i.spec.type, 1) };
      this.forwards.set(i.topic, f);
      const topic = graph.topics.get(i.topic)!;
      const fw: RemoteSender = { send: (v, t0, seq) => this.forward(i.topic, v, t0, seq), end: () => this.endForward(f) };
      senders.push(fw);
      for (const p of topic.publishers) out.push({ stage: p.stage, output: graph.stages[p.stage]!.outputs.findIndex((o) => o.port === p.port), sender: fw });
    }
    for (const o of s.outputs) {
      const targets = localInputs(o.topic);
      core.openRemote();
      this.returnsOpen++;
      unsubscribe.push(
        links.receive(
          o.topic,
          (value, t0, seq) => {
            this.x.tap?.(o.topic, value, seq);
            for (const [stage, input] of targets) core.inject(stage, input, { value, t0, seq });
            core.drain();
          },
          () => {
            this.returnsOpen--;
            core.closeRemote();
          },
        ),
      );
    }
    return { forwarders: out, senders };
  }

  /** The stage ended frame `seq` here. */
  ran(stage: number, seq: number): void {
    if (stage === this.spec.stage && seq > this.lastFrame) this.lastFrame = seq;
  }

  /** The stage starts a job here (the target feeds it the next queued message). */
  dispatched(stage: number): void {
    if (stage !== this.spec.stage || this.spec.role !== 'target' || !this.active) return;
    if (this.pauseMs === undefined && this.handover) {
      this.pauseMs = epochNow(this.x.clock) - this.handover.at;
      this.report();
      this.x.log(
        `xauto: migrated ${this.name} from ${this.spec.from} to ${this.spec.to}: state as of frame ${this.handover.frame} (${this.stateBytes} B${this.deviceBytes ? ` + ${this.deviceBytes} B on the device` : ''}, restored in ${this.restoreMs.toFixed(2)} ms), ` +
          `${this.queuedDuringMove} message(s) queued during the move, delivered in order; pause ${this.pauseMs.toFixed(2)} ms`,
      );
    }
    this.feed();
  }

  /** Source: a message for the stage was published here; after the hand-over it goes to the target. */
  private forward(topic: string, value: unknown, t0: number, seq: number): void {
    if (!this.moved) {
      if (!this.due(seq) || !this.idle()) return; // delivered here, as any local message
      this.handOver();
    }
    const f = this.forwards.get(topic)!;
    if (f.ended) {
      counters.add('lost.migration.after_end');
      return;
    }
    f.sender.send(value, t0, seq);
    this.forwarded++;
  }

  private due(seq: number): boolean {
    if (!this.requested) {
      const started = this.x.runStarted();
      if (this.spec.atFrame !== undefined) this.requested = seq >= this.spec.atFrame;
      else this.requested = started > 0 && this.x.clock.now() - started >= (this.spec.atMs ?? 0);
    }
    return this.requested;
  }

  /** At a frame boundary: not running, not waiting at its XPU, nothing held at its trigger inputs. */
  private idle(): boolean {
    const st = this.x.core.stages[this.spec.stage]!;
    return !st.running && !st.queued && st.triggers.every((i) => i.queue.length === 0);
  }

  private handOver(): void {
    this.moved = true;
    this.x.core.detach(this.spec.stage);
    const at = epochNow(this.x.clock);
    const state = this.x.state(this.spec.stage);
    if (!state || !onThread(state)) return this.send(at, state?.snapshot());
    // In its worker, after its last job here; what comes for it meanwhile is forwarded (queued there).
    state
      .snapshot()
      .then((snap) => this.send(at, snap))
      .catch((e: Error) => {
        counters.add('lost.migration.state');
        this.x.log(`xauto: moving ${this.name} from its worker thread failed (${e.message}); what comes for it is lost`);
      });
  }

  private send(at: number, snap: StateSnapshot | undefined): void {
    let encoded: unknown = snap ? encodeState({ ...snap, device: {} }) : null;
    const json = encoded === null ? '' : JSON.stringify(encoded);
    this.stateBytes = json.length;
    let device: DeviceFiles = {};
    let hostFile: string | undefined;
    const big = json.length > HOST_BY_FILE;
    if (snap && (Object.keys(snap.device).length || big)) {
      const saved = saveHandover(this.name, snap.device, big ? json : undefined);
      device = saved.files;
      this.deviceDir = saved.dir;
      if ((hostFile = saved.hostFile)) encoded = 'file';
      for (const f of Object.values(device)) this.deviceBytes += f.bytes;
    }
    const h: Handover = { stage: this.name, frame: this.lastFrame, at, state: encoded, hostFile, device };
    this.stateSender!.send(h, this.x.clock.now(), 0);
    this.x.log(
      `xauto: moving ${this.name} to process '${this.spec.to}' after frame ${this.lastFrame} (${this.stateBytes} B of host state${this.deviceBytes ? `, ${this.deviceBytes} B of device state` : ''}); its messages go there from now on`,
    );
    this.report();
  }

  /** Ends a forwarded topic once; every caller waits for the same end (its flush). */
  private endForward(f: Forward): Promise<void> {
    f.ended ??= f.sender.end();
    return f.ended;
  }

  /**
   * Source: nothing is left to run here. When the only topics still open are the stage's
   * outputs coming back, no more messages for it can be published: its inputs end, so the
   * target ends too, and its outputs' ends come back (two processes waiting on each other
   * would otherwise never end).
   */
  quiet(open: number): void {
    if (this.spec.role !== 'source' || open !== this.returnsOpen) return;
    for (const f of this.forwards.values()) void this.endForward(f);
  }

  /** Target: a message for the stage from the source process. */
  accept(input: number, env: Envelope): void {
    const last = this.lastSeq.get(input) ?? -Infinity;
    if (env.seq <= last) {
      // DDS keeps one writer's samples in order: an older or repeated frame is a duplicate.
      this.duplicates++;
      counters.add('refused.migration.duplicate');
      return;
    }
    this.lastSeq.set(input, env.seq);
    this.received++;
    if (!this.active) this.queuedDuringMove++;
    this.queue.push({ input, env });
    if (this.active) this.feed();
  }

  /** Target: calls `f` once every queued message went to the stage. */
  whenDrained(f: () => void): void {
    if (this.queue.length === 0) f();
    else this.onDrained.push(f);
  }

  /** Target: the hand-over arrived; the stage takes the source's state, then its queue. */
  private restore(v: unknown): void {
    if (this.active || this.restoring) return counters.add('refused.migration.second_handover');
    const h = v as Partial<Handover>;
    if (!h || typeof h !== 'object' || h.stage !== this.name || typeof h.frame !== 'number' || typeof h.at !== 'number') {
      counters.add('refused.migration.malformed');
      this.x.log(`xauto: refused a hand-over of ${this.name}: not a hand-over of this stage`);
      return;
    }
    this.restoring = true;
    const t0 = performance.now();
    const state = this.x.state(this.spec.stage);
    let put: Promise<void> | undefined;
    try {
      if (state && h.state !== null) {
        const host = h.hostFile !== undefined ? readHostState(this.name, h.hostFile) : h.state;
        this.stateBytes = JSON.stringify(host).length;
        if (onThread(state)) put = state.restore({ ...decodeState(host), device: {} });
        else {
          // The device part goes into the buffers the stage owns here: its own handles stay.
          const own = state.snapshot().device;
          state.restore({ ...decodeState(host), device: own });
          this.deviceBytes = loadDeviceState(this.name, h.device, own);
        }
      } else if (state || h.state !== null) throw new Error('one side has a state, the other none (another implementation?)');
    } catch (e) {
      this.refuse(e as Error);
      return;
    } finally {
      removeHandover(this.name, [h.hostFile, ...Object.values(h.device ?? {}).map((f) => f?.file)]);
    }
    // A worker thread's state is put back there by message; what arrives meanwhile stays queued.
    if (put) put.then(() => this.takeOver(h as Handover, t0)).catch((e: Error) => this.refuse(e));
    else this.takeOver(h as Handover, t0);
  }

  /** The stage is not taken over: what comes for it is counted as lost at the end. */
  private refuse(e: Error): void {
    this.restoring = false;
    counters.add('refused.migration.state');
    this.x.log(`xauto: refused the hand-over of ${this.name}: ${e.message}`);
  }

  private takeOver(h: Handover, t0: number): void {
    this.restoreMs = performance.now() - t0;
    this.handover = h;
    this.active = true;
    this.report();
    this.feed();
    this.x.core.drain();
  }

  /**
   * Target: the next queued message goes to the stage's input once that holds none (its
   * keep-last queue never overflows); called again each time the stage takes its inputs.
   */
  private feed(): void {
    if (!this.active) return;
    const st = this.x.core.stages[this.spec.stage]!;
    while (this.queue.length && st.inputs[this.queue[0]!.input]!.queue.length === 0) {
      const { input, env } = this.queue.shift()!;
      this.delivered++;
      this.x.core.inject(this.spec.stage, input, env);
    }
    if (this.queue.length === 0) for (const f of this.onDrained.splice(0)) f();
  }

  private report(): void {
    const base = { stage: this.name, from: this.spec.from, to: this.spec.to };
    if (this.spec.role === 'source') {
      this.x.section('migration_source', { ...base, moved: this.moved, frame: this.lastFrame, forwarded: this.forwarded, state_bytes: this.stateBytes, device_bytes: this.deviceBytes });
      return;
    }
    this.x.section('migration', {
      ...base,
      moved: this.active,
      frame: this.handover?.frame ?? 'none',
      state_bytes: this.stateBytes,
      device_bytes: this.deviceBytes,
      received: this.received,
      queued: this.queuedDuringMove,
      delivered: this.delivered,
      duplicates: this.duplicates,
      lost: this.queue.length,
      restore_ms: round(this.restoreMs),
      pause_ms: this.pauseMs === undefined ? 'none' : round(this.pauseMs),
    });
  }

  /** The run is over: what never reached the stage is counted as lost. */
  close(): void {
    // Hand-over files the target never took (it removes those it takes).
    if (this.deviceDir) rmSync(this.deviceDir, { recursive: true, force: true });
    if (this.spec.role === 'target' && this.queue.length) {
      counters.add('lost.migration.queued', this.queue.length);
      this.x.log(`xauto: ${this.queue.length} message(s) for ${this.name} never reached it (${this.active ? 'the run stopped first' : 'no hand-over arrived'}; counted as lost.migration.queued)`);
    }
    this.report();
  }
}
