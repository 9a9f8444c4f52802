// The frame cut of a running launch (runtime/exec/checkpoint-cut.ts), on a real device and
// image, with stages driven by hand: stages frames apart are each saved as of the same frame;
// the device is cut at one instant when its state owners are at that frame; a cut the device
// owners cannot share is given up and taken at later frames.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameCut, type CutCommit } from '../runtime/exec/checkpoint-cut.js';
import { Checkpointer } from '../runtime/gpu/checkpoint.js';
import { Device, type DeviceBuffer, type Stream } from '../runtime/gpu/index.js';
import { decodeState, hostState, type XNodeState } from '../runtime/xnode/state.js';

/** A host stage whose state is the last frame it ran. */
function hostStage(): { state: XNodeState; last: Float64Array } {
  const last = new Float64Array([-1]);
  return { state: hostState({ arrays: { last } }), last };
}

/** A device stage whose state is a device counter: frames it ran, added by a kernel. */
function deviceStage(d: Device, s: Stream): { state: XNodeState; run(): Promise<void>; buf: DeviceBuffer } {
  const buf = d.upload(new Float32Array(256));
  const one = d.upload(new Float32Array(256).fill(1));
  return {
    buf,
    state: hostState({ arrays: {}, device: { get: () => ({ counter: buf.handle }), set: () => undefined } }),
    run: async () => void (await s.launch('add_inplace', { n: 256, a: buf, b: one }).done),
  };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-cut-'));
  const d = new Device();
  const s = d.stream();
  let now = 0;
  const commits: CutCommit[] = [];
  const make = (stages: Array<{ stage: number; name: string; state: XNodeState }>) =>
    new FrameCut(stages, new Checkpointer(d, { dir, chunkBytes: 4096 }), { everyMs: 100, meta: () => ({}), now: () => now, onCommit: (c) => commits.push(c), onError: (e) => { throw e; } });
  return { dir, d, s, commits, make, at: (t: number) => (now = t), done: () => (d.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('stages frames apart are each saved as of the same frame; the device as of that frame too', async (t) => {
  const x = setup();
  const a = hostStage(), b = hostStage();
  const dev = deviceStage(x.d, x.s);
  const cut = x.make([{ stage: 0, name: 'a', ...a }, { stage: 1, name: 'b', ...b }, { stage: 2, name: 'dev', state: dev.state }]);
  const runHost = (k: number, st: { last: Float64Array }, f: number) => {
    cut.started(k, f);
    st.last[0] = f;
    cut.finished(k, f);
  };
  const runDev = async (f: number) => {
    cut.started(2, f);
    await dev.run();
    cut.finished(2, f);
  };
  for (let f = 0; f < 5; f++) runHost(0, a, f);
  for (let f = 0; f < 4; f++) await runDev(f); // 4 frames on the device
  x.at(200); // a checkpoint is due from here on
  cut.started(0, 5); // a runs frame 5 while b is far behind: the cut is at 5
  b.last[0] = 0;
  cut.started(1, 0);
  cut.finished(1, 0);
  a.last[0] = 5;
  cut.finished(0, 5);
  for (let f = 1; f <= 5; f++) runHost(1, b, f);
  for (let f = 6; f < 9; f++) runHost(0, a, f); // a goes on: not in the image
  await runDev(6); // the device stage never got 5: cut before it runs 6
  await runDev(7);
  await cut.close();
  t.is(x.commits.length, 1);
  t.is(x.commits[0]!.frame, 5);
  const fresh = new Device();
  const { image } = Checkpointer.restore(fresh, x.dir, { onDemand: false });
  t.is(image.manifest.meta.frame, 5);
  t.deepEqual([...decodeState(image.manifest.xnodes.a).arrays.last!], [5]);
  t.deepEqual([...decodeState(image.manifest.xnodes.b).arrays.last!], [5]);
  const counter = image.buffers.get(decodeState(image.manifest.xnodes.dev).device.counter!)!;
  t.is(counter.read(new Float32Array(256))[0], 4, 'the device counter as of the cut: 4 frames, not the 6 run in all');
  fresh.close();
  x.done();
});

test('two device-state stages: a cut one of them leaves before the other reaches it is given up, then taken later', async (t) => {
  const x = setup();
  const d1 = deviceStage(x.d, x.s), d2 = deviceStage(x.d, x.s);
  const cut = x.make([{ stage: 0, name: 'd1', state: d1.state }, { stage: 1, name: 'd2', state: d2.state }]);
  const run = async (k: number, st: { run(): Promise<void> }, f: number) => {
    cut.started(k, f);
    await st.run();
    cut.finished(k, f);
  };
  await run(0, d1, 0);
  x.at(200);
  await run(0, d1, 1); // due: cut at 1; d1 is there, d2 not yet
  await run(0, d1, 2); // d1 leaves the cut before d2 reaches it
  t.is(cut.missed, 1);
  t.is(x.commits.length, 0);
  await run(1, d2, 0);
  await run(1, d2, 1);
  await run(1, d2, 2); // a new cut at 2: both are at 2 now
  await cut.close();
  t.is(x.commits.length, 1);
  t.is(x.commits[0]!.frame, 2);
  const fresh = new Device();
  const { image } = Checkpointer.restore(fresh, x.dir, { onDemand: false });
  for (const n of ['d1', 'd2']) t.is(image.buffers.get(decodeState(image.manifest.xnodes[n]).device.counter!)!.read(new Float32Array(256))[0], 3, `${n}: frames 0..2`);
  fresh.close();
  x.done();
});

test('a part of a launch\'s cut (cutAt): taken at the named frame, ahead of the stages, when each reaches it; refused when a stage is past it', async (t) => {
  const x = setup();
  const a = hostStage();
  const dev = deviceStage(x.d, x.s);
  const cut = new FrameCut([{ stage: 0, name: 'a', ...a }, { stage: 1, name: 'dev', state: dev.state }], new Checkpointer(x.d, { dir: x.dir, chunkBytes: 4096 }), {
    everyMs: 100, manual: true, meta: () => ({}), now: () => 0, onError: (e) => { throw e; },
  });
  const runHost = (f: number) => {
    cut.started(0, f);
    a.last[0] = f;
    cut.finished(0, f);
  };
  const runDev = async (f: number) => {
    cut.started(1, f);
    await dev.run();
    cut.finished(1, f);
  };
  for (let f = 0; f < 3; f++) runHost(f);
  for (let f = 0; f < 2; f++) await runDev(f);
  const part = cut.cutAt(4, { launchEpoch: 7 });
  for (let f = 3; f < 7; f++) runHost(f); // a passes 4 and goes on: its state as of 4
  for (let f = 2; f < 5; f++) await runDev(f);
  await runDev(5);
  const c = await part;
  t.is(c.frame, 4);
  t.is(cut.committed, 1, 'a manual cut is only taken where named');
  const e = await cut.cutAt(3, { launchEpoch: 8 }).then(() => undefined, (err: Error & { ahead?: number }) => err);
  t.regex(e!.message, /a stage here already started frame 6/);
  t.is(e!.ahead, 6, 'how far this process got: the launch chooses its next cut further on');
  await cut.close();
  const fresh = new Device();
  const { image } = Checkpointer.restore(fresh, x.dir, { onDemand: false });
  t.deepEqual([image.manifest.meta.frame, image.manifest.meta.launchEpoch], [4, 7]);
  t.deepEqual([...decodeState(image.manifest.xnodes.a).arrays.last!], [4]);
  t.is(image.buffers.get(decodeState(image.manifest.xnodes.dev).device.counter!)!.read(new Float32Array(256))[0], 5, 'the device as of frame 4: frames 0..4');
  fresh.close();
  x.done();
});
