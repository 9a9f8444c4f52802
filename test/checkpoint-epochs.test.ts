// The epochs of a launch in several processes: the top process writes an epoch's record only
// once every process's part is in (a part that fails, or never comes, leaves the epoch
// uncommitted); a restore takes the newest record every part of which is whole, passing over
// one whose part is missing or of another cut, and refuses a damaged record; each process
// keeps whole the parts the kept records name.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CutCommit, FrameCut } from '../runtime/exec/checkpoint-cut.js';
import { findLaunchEpoch, listLaunchEpochs, partDir, readLaunchEpoch, retainedParts, writeLaunchEpoch, LAUNCH_FORMAT, LAUNCH_FORMAT_VERSION, type LaunchEpoch } from '../runtime/exec/checkpoint-epochs.js';
import { LaunchEpochs } from '../runtime/exec/checkpoint-parts.js';
import type { RemoteLinks } from '../runtime/exec/remote.js';
import { Checkpointer, ImageError, kernelLibraryHash } from '../runtime/gpu/checkpoint.js';
import { epochDir } from '../runtime/gpu/checkpoint-image.js';
import { Device } from '../runtime/gpu/index.js';

/** Links that keep what is sent, and let a test answer as the other process would. */
function fakeLinks() {
  const sent: Array<{ topic: string; value: unknown }> = [];
  const handlers = new Map<string, (v: unknown) => void>();
  const links: RemoteLinks = {
    sender: (topic) => ({ send: (value) => void sent.push({ topic, value }), end: async () => {} }),
    receive: (topic, onMessage) => {
      handlers.set(topic, (v) => onMessage(v, 0, 0));
      return () => handlers.delete(topic);
    },
    connected: async () => {},
  };
  return { links, sent, answer: (name: string, v: unknown) => handlers.get(`/_checkpoint/part/${name}`)!(v) };
}

const commit = (epoch: number, frame: number): CutCommit => ({ epoch, frame, deviceBytes: 100, written: 10, hostBytes: 5, pauseUs: 1, hostUs: 1 });

/** The top's own cut: each cutAt is answered by the test. */
function fakeCut() {
  const asked: Array<{ frame: number; ok(c: CutCommit): void; fail(e: Error): void }> = [];
  const cut = { cutAt: (frame: number) => new Promise<CutCommit>((ok, fail) => asked.push({ frame, ok, fail })) } as unknown as FrameCut;
  return { cut, asked };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

test('a launch epoch is committed only once every process\'s part is in; a failed or missing part leaves it uncommitted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-epochs-'));
  const lines: string[] = [];
  const { links, sent, answer } = fakeLinks();
  const { cut, asked } = fakeCut();
  const e = new LaunchEpochs({ dir, everyMs: 0, processes: ['tracking'], meta: () => ({ launch: 'x' }), log: (l) => lines.push(l), timeoutMs: 100 });
  e.wire(links, []);
  e.attach(cut);
  try {
    // Epoch 1: the top's part is in, the other process could not take its part.
    e.started(5);
    e.finished();
    t.deepEqual(sent.at(-1)!.value, { epoch: 1, frame: 5 });
    t.is(asked[0]!.frame, 5);
    asked[0]!.ok(commit(1, 5));
    await tick();
    answer('tracking', { epoch: 1, name: 'tracking', why: 'its disk is full' });
    await tick();
    t.deepEqual(listLaunchEpochs(dir), [], 'no record without every part');
    t.regex(lines.at(-1)!, /checkpoint epoch 1 not committed .*process 'tracking': its disk is full/);

    // Epoch 2: both parts in: the record names each process's epoch.
    e.started(9);
    e.finished();
    t.deepEqual(sent.at(-1)!.value, { epoch: 2, frame: 9 });
    answer('tracking', { epoch: 2, name: 'tracking', commit: commit(4, 9) });
    asked[1]!.ok(commit(2, 9));
    await tick();
    await e.settled(); // the record's write (fsync, rename) may take longer than a tick
    t.deepEqual(listLaunchEpochs(dir), [2]);
    const r = readLaunchEpoch(dir, 2);
    t.deepEqual([r.frame, r.parts, r.meta], [9, { main: 2, tracking: 4 }, { launch: 'x' }]);
    t.regex(lines.at(-1)!, /checkpoint epoch 2 committed: frame 9, parts of processes tracking 4, main 2/);

    // Epoch 3: the other process never answers (it died): given up after the timeout.
    e.started(12);
    e.finished();
    asked[2]!.ok(commit(3, 12));
    await new Promise((res) => setTimeout(res, 200));
    t.deepEqual(listLaunchEpochs(dir), [2]);
    t.regex(lines.at(-1)!, /checkpoint epoch 3 not committed .*not every process answered/);

    // Epoch 4: the other process was past the frame: missed, and the next cut is chosen further on.
    e.started(14);
    e.finished();
    answer('tracking', { epoch: 4, name: 'tracking', why: 'a stage here already started frame 17', ahead: 17 });
    asked[3]!.fail(new Error('given up'));
    e.finished();
    t.deepEqual(sent.at(-1)!.value, { epoch: 5, frame: 14 + 4 });
    t.deepEqual([e.committed, e.missed, e.failed], [1, 1, 2]);
    await e.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A part of process `name` in `dir`, taken at (launch epoch, frame); its epoch in its folder. */
async function part(ck: Checkpointer, launchEpoch: number, frame: number): Promise<number> {
  const c = await ck.begin({ incremental: false, meta: { launchEpoch, frame } }).committed;
  return c.manifest.epoch;
}

const record = (epoch: number, frame: number, parts: Record<string, number>): LaunchEpoch => ({ format: LAUNCH_FORMAT, version: LAUNCH_FORMAT_VERSION, epoch, frame, parts, createdAt: '', meta: {} });

test('a restore takes the newest launch epoch whose parts are whole; each process keeps the parts the kept records name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-epochs-'));
  const d = new Device();
  try {
    const b = d.alloc(4096);
    b.write(new Uint8Array(4096).fill(3));
    const main = new Checkpointer(d, { dir: partDir(dir, 'main'), chunkBytes: 4096, retain: () => retainedParts(dir, 'main') });
    const lib = kernelLibraryHash();
    for (const [k, frame] of [[1, 10], [2, 20], [3, 30]] as const) {
      const m = await part(main, k, frame);
      await writeLaunchEpoch(dir, record(k, frame, { main: m, tracking: m }));
    }
    // Parts of process 'tracking' for epochs 1..3: a fresh device each (its own process).
    const d2 = new Device();
    const tr = new Checkpointer(d2, { dir: partDir(dir, 'tracking'), chunkBytes: 4096, retain: () => retainedParts(dir, 'tracking') });
    for (const [k, frame] of [[1, 10], [2, 20], [3, 30]] as const) t.is(await part(tr, k, frame), k);
    d2.close();

    t.is(findLaunchEpoch(dir, lib).record.epoch, 3);
    // Epoch 1 is named by no kept record (3 and 2 are): pruned at the next commit; 2 is kept whole.
    await part(main, 4, 40);
    t.false(existsSync(epochDir(partDir(dir, 'main'), 1)));
    t.true(existsSync(epochDir(partDir(dir, 'main'), 2)), 'the part of the epoch a restore falls back to is kept');

    // The newest record's part of 'tracking' is gone: passed over for epoch 2.
    rmSync(epochDir(partDir(dir, 'tracking'), 3), { recursive: true });
    const found = findLaunchEpoch(dir, lib);
    t.is(found.record.epoch, 2);
    t.regex(found.skipped.join(), /launch epoch 3: the part of process 'tracking' is not whole/);

    // A record naming a part of another cut is passed over too.
    await writeLaunchEpoch(dir, record(5, 50, { main: 4, tracking: 2 }));
    t.regex(findLaunchEpoch(dir, lib).skipped[0]!, /launch epoch 5: epoch 4 of process 'main' is of another cut \(launch epoch 4, frame 40\)/);

    // A damaged record is refused, with the reason.
    writeFileSync(join(dir, 'launch-epoch-00000006.json'), '{"record":"{}","crc32":1}');
    const err = t.throws(() => findLaunchEpoch(dir, lib), { instanceOf: ImageError });
    t.regex(err!.message, /launch-epoch-00000006\.json: checksum mismatch/);
  } finally {
    d.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
