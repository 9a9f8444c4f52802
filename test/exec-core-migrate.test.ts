// What the dispatch core gives live migration (exec/migrate.ts), on virtual time: detach() stops
// deliveries to a stage that moves away (what it holds it still runs; its producers go on, no
// longer held back by it), and quiet() says when nothing is left to run here while topics
// from other processes are still open.
import test from 'ava';
import { CostedDriver } from '../runtime/exec/core/costed.js';
import { Dispatcher } from '../runtime/exec/core/dispatcher.js';
import type { Hooks } from '../runtime/exec/core/types.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { modelCosts, modelTopology } from '../runtime/schedule/simulate.js';
import { model } from '../runtime/schedule/synthetic.js';

function chain(fast: boolean, onPublish?: (core: Dispatcher, stage: number, seq: number) => void) {
  const m = model(
    [{ id: 'main', eventLoop: true }, { id: 'acc' }],
    [
      { name: 'src', cost: { main: 1 }, periodMs: 10 },
      { name: 'a', cost: { acc: 2 }, from: ['src'] },
      { name: 'b', cost: { main: 3 }, from: ['a'] },
    ],
  );
  const a = { option: [0, 0, 0], priority: [0, 0, 0] };
  const topo = modelTopology(m, a);
  const vm = new VirtualMachine({ cores: m.cores });
  const runs: Array<[number, number]> = [];
  const quiet: number[] = [];
  let core!: Dispatcher;
  const hooks: Hooks = {
    run: (stage, _x, seq) => void runs.push([stage, seq]),
    publish: (stage, _o, _v, frame) => onPublish?.(core, stage, frame.seq),
    quiet: (open) => void quiet.push(open),
  };
  core = new Dispatcher(topo, vm, new CostedDriver(vm, topo, modelCosts(m, a)), hooks, { fast, frames: 20 });
  return { core, vm, runs, quiet };
}

for (const fast of [false, true]) {
  test(`detach: the stage runs the frames it was given before, none after; its producer goes on (${fast ? 'as fast as taken' : 'at the rate'})`, async (t) => {
    // As a migration does: b is detached while a publishes frame 8 (delivered elsewhere then).
    const { core, vm, runs } = chain(fast, (c, stage, seq) => stage === 1 && seq === 8 && c.detach(2));
    let over = false;
    const done = core.run().then(() => (over = true));
    vm.runToEnd();
    await done;
    const of = (k: number) => runs.filter(([s]) => s === k).map(([, q]) => q);
    t.deepEqual(of(2), Array.from({ length: 8 }, (_, i) => i), 'b ran frames 0..7, each once, nothing later');
    t.deepEqual(of(1), Array.from({ length: 20 }, (_, i) => i), 'a ran every frame');
    t.is(core.topo.stages[1]!.outputs[0]!.subs.length, 0, 'a delivers to no one here');
    t.is(core.stages[2]!.inputs[0]!.queue.length, 0);
    t.is(core.stages[1]!.ended, 0, 'frames a published after the detach are not counted as ended here (they go on elsewhere)');
    t.true(over, 'the run ends');
  });
}

test('quiet: called with the topics still open once nothing is left to run here; the run ends when they close', async (t) => {
  const { core, vm, quiet } = chain(true);
  core.openRemote();
  core.openRemote();
  let over = false;
  const done = core.run().then(() => (over = true));
  vm.runToEnd();
  await Promise.resolve();
  t.false(over, 'open topics keep the run going');
  t.true(quiet.length > 0);
  t.true(quiet.every((n) => n === 2));
  t.is(core.stages[2]!.runs, 20, 'only after every local frame was done');
  const before = quiet.length;
  core.closeRemote();
  t.is(quiet.at(-1), 1);
  t.true(quiet.length > before);
  core.closeRemote();
  await done;
  t.true(over);
});
