// Checkpoints of a launch whose xnodes run in several processes, in two phases over the
// launch's DDS links. The top process picks the cut: frame N, at or past every frame its own
// stages started (the sources' newest), so the stages downstream, here and elsewhere, have not
// yet passed it. It asks every other process for its part at N and takes its own (each a
// FrameCut.cutAt: its stages' states as of the end of N and its device, into its part folder);
// each process answers once its part is durable, or why it could not be had. Only when every
// part is in does the top write the launch epoch's record (checkpoint-epochs.ts): a process that
// dies, or cannot reach N, leaves the epoch uncommitted and the previous one the one to restore.
// Nothing in flight on the links needs keeping: the sources are deterministic (frame k is
// computed from k), so a restored launch starts every process at N + 1 and the frames after N
// are made again.
import { performance } from 'node:perf_hooks';
import type { CutCommit, FrameCut } from './checkpoint-cut.js';
import { pruneLaunchEpochs, writeLaunchEpoch, LAUNCH_FORMAT, LAUNCH_FORMAT_VERSION, listLaunchEpochs } from './checkpoint-epochs.js';
import type { RemoteLinks, RemoteSender } from './remote.js';

const TYPE = 'xauto/Checkpoint';
const CUT_TOPIC = '/_checkpoint/cut';
const partTopic = (name: string) => `/_checkpoint/part/${name.replace(/\W/g, '_')}`;

interface CutRequest {
  epoch: number;
  frame: number;
}

interface PartReply {
  epoch: number;
  name: string;
  /** The part's epoch in its folder, and what it held; absent when it failed. */
  commit?: CutCommit;
  why?: string;
  /** The newest frame a stage of the process had started when the cut could not be had. */
  ahead?: number;
}

/** A launch epoch, as its summary line and the report give it. */
export interface LaunchCommit extends CutCommit {
  parts: Record<string, number>;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;

export function describeLaunchCommit(c: LaunchCommit): string {
  const parts = Object.entries(c.parts).map(([n, e]) => `${n} ${e}`).join(', ');
  return `checkpoint epoch ${c.epoch} committed: frame ${c.frame}, parts of processes ${parts} (their epochs), ${mib(c.deviceBytes)} device state (${mib(c.written)} written), ${c.hostBytes} B host state, pause ${c.pauseUs.toFixed(0)} us`;
}

interface Pending {
  epoch: number;
  frame: number;
  commits: Map<string, CutCommit>;
  timer: NodeJS.Timeout;
}

export interface LaunchEpochsOptions {
  dir: string;
  everyMs: number;
  /** The other processes of the launch (each answers for its part). */
  processes: string[];
  /** The top process's meta, kept in each record (launch identity, scene clock, plan). */
  meta: () => Record<string, unknown>;
  log: (line: string) => void;
  /** How long the parts may take before the epoch is given up; default 4 periods + 5 s. */
  timeoutMs?: number;
}

/** The top process's side: picks the cuts, takes its own part, commits each launch epoch. */
export class LaunchEpochs {
  private sender: RemoteSender | undefined;
  private cut: FrameCut | undefined;
  private pending: Pending | undefined;
  private writing: Promise<void> | undefined;
  private next: number;
  private last = performance.now();
  private newest = -Infinity;
  /** How far ahead of the chosen frame another process was, the last time one was. */
  private lead = 0;
  committed = 0;
  missed = 0;
  failed = 0;
  lastCommit: LaunchCommit | undefined;
  maxPauseUs = 0;

  constructor(private readonly o: LaunchEpochsOptions) {
    this.next = (listLaunchEpochs(o.dir)[0] ?? 0) + 1;
  }

  /** Before the run starts (the links wait for every process to subscribe). */
  wire(links: RemoteLinks, unsubscribe: Array<() => void>): void {
    this.sender = links.sender(CUT_TOPIC, TYPE, this.o.processes.length);
    for (const name of this.o.processes) unsubscribe.push(links.receive(partTopic(name), (v) => this.reply(v as PartReply), () => {}));
  }

  attach(cut: FrameCut): void {
    this.cut = cut;
  }

  started(seq: number): void {
    if (seq > this.newest) this.newest = seq;
  }

  /** A stage here ended a frame: a cut is opened when one is due. */
  finished(): void {
    const t = performance.now();
    if (!this.cut || this.pending || this.writing || t - this.last < this.o.everyMs || this.newest === -Infinity) return;
    this.last = t;
    const p: Pending = { epoch: this.next++, frame: this.newest + this.lead, commits: new Map(), timer: setTimeout(() => this.fail(p, `not every process answered within ${((this.o.timeoutMs ?? 4 * this.o.everyMs + 5000) / 1000).toFixed(1)} s`), this.o.timeoutMs ?? 4 * this.o.everyMs + 5000) };
    p.timer.unref();
    this.pending = p;
    this.sender!.send({ epoch: p.epoch, frame: p.frame } satisfies CutRequest, performance.now(), p.epoch);
    this.cut.cutAt(p.frame, { launchEpoch: p.epoch }).then(
      (c) => this.partIn(p, 'main', c),
      (e: Error & { ahead?: number }) => this.fail(p, `process 'main': ${e.message}`, e.ahead),
    );
  }

  private reply(r: PartReply): void {
    const p = this.pending;
    if (!p || r.epoch !== p.epoch || typeof r.name !== 'string') return;
    if (r.commit) this.partIn(p, r.name, r.commit);
    else this.fail(p, `process '${r.name}': ${String(r.why)}`, r.ahead);
  }

  private partIn(p: Pending, name: string, c: CutCommit): void {
    if (this.pending !== p) return;
    p.commits.set(name, c);
    if (p.commits.size < this.o.processes.length + 1) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    const parts: Record<string, number> = {};
    const sum: LaunchCommit = { epoch: p.epoch, frame: p.frame, parts, deviceBytes: 0, written: 0, hostBytes: 0, pauseUs: 0, hostUs: 0 };
    for (const [n, x] of p.commits) {
      parts[n] = x.epoch;
      sum.deviceBytes += x.deviceBytes;
      sum.written += x.written;
      sum.hostBytes += x.hostBytes;
      sum.pauseUs = Math.max(sum.pauseUs, x.pauseUs);
      sum.hostUs += x.hostUs;
    }
    const record = { format: LAUNCH_FORMAT, version: LAUNCH_FORMAT_VERSION, epoch: p.epoch, frame: p.frame, parts, createdAt: new Date().toISOString(), meta: this.o.meta() } as const;
    const writing = writeLaunchEpoch(this.o.dir, record)
      .then(async () => {
        this.committed++;
        this.lead = 0;
        this.lastCommit = sum;
        this.maxPauseUs = Math.max(this.maxPauseUs, sum.pauseUs);
        this.o.log(`xauto: ${describeLaunchCommit(sum)}`);
        await pruneLaunchEpochs(this.o.dir);
      })
      .catch((e: Error) => {
        this.failed++;
        this.o.log(`xauto: checkpoint epoch ${p.epoch} not committed (the previous one stays the one to restore): ${e.message}`);
      })
      .finally(() => (this.writing = undefined));
    this.writing = writing;
  }

  private fail(p: Pending, why: string, ahead?: number): void {
    if (this.pending !== p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    if (typeof ahead === 'number' && Number.isFinite(ahead)) {
      // Another process's stages were past the frame: the next cut is chosen that much further on.
      this.missed++;
      this.lead = Math.max(this.lead, ahead - p.frame + 1);
      this.last = -Infinity;
      return;
    }
    this.failed++;
    this.o.log(`xauto: checkpoint epoch ${p.epoch} not committed (the previous one stays the one to restore): ${why}`);
  }

  /** Resolves once the record being written, if any, is durable (or its write failed). */
  async settled(): Promise<void> {
    await this.writing;
  }

  /** The run is over: an epoch still waiting for parts is not committed; one being written is finished. */
  async close(): Promise<void> {
    if (this.pending) {
      clearTimeout(this.pending.timer);
      this.pending = undefined;
    }
    await this.writing;
  }
}

/** Another process's side: takes its part of each cut the top process asks for and answers. */
export class EpochPart {
  private sender: RemoteSender | undefined;
  private cut: FrameCut | undefined;
  private asked: CutRequest | undefined;

  constructor(
    private readonly name: string,
    private readonly log: (line: string) => void,
  ) {}

  wire(links: RemoteLinks, unsubscribe: Array<() => void>): void {
    this.sender = links.sender(partTopic(this.name), TYPE, 1);
    unsubscribe.push(links.receive(CUT_TOPIC, (v) => this.request(v as CutRequest), () => {}));
  }

  attach(cut: FrameCut): void {
    this.cut = cut;
    // A request that came while the stages were being put back.
    if (this.asked) this.request(this.asked);
  }

  private request(r: CutRequest): void {
    if (typeof r?.epoch !== 'number' || typeof r.frame !== 'number') return;
    if (!this.cut) {
      this.asked = r;
      return;
    }
    this.asked = undefined;
    const answer = (x: Omit<PartReply, 'epoch' | 'name'>) => this.sender!.send({ epoch: r.epoch, name: this.name, ...x } satisfies PartReply, performance.now(), r.epoch);
    this.cut.cutAt(r.frame, { launchEpoch: r.epoch }).then(
      (commit) => answer({ commit }),
      (e: Error & { ahead?: number }) => {
        if (e.ahead === undefined) this.log(`xauto: part of checkpoint epoch ${r.epoch} not taken: ${e.message}`);
        answer({ why: e.message, ahead: e.ahead });
      },
    );
  }
}
