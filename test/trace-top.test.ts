// `xauto top`: the live view of a real run of the hello pipeline, refreshed every second.
import test from 'ava';
import { runTop } from '../runtime/cli/top.js';

test.serial('xauto top shows per-stage and per-path latency, XPU and CPU load while the run goes on', async (t) => {
  const frames: string[] = [];
  await runTop(
    { file: new URL('../launch/hello.launch.yaml', import.meta.url).pathname, launchArgs: [], duration: 2.5, plan: 'default', allowCommand: false, xnodes: [], reprofile: false },
    (text) => frames.push(text),
  );
  t.true(frames.length >= 1, 'the run lasts 2.5 s: at least one refresh');
  const last = frames[frames.length - 1]!;
  t.regex(last, /stage\s+impl@xpu\s+runs\/s\s+p50 ms\s+p99 ms\s+wait p50\s+drops/);
  for (const s of ['source', 'scale', 'check']) t.regex(last, new RegExp(`\\n${s}\\s+js@main\\s+\\d+\\.\\d`));
  t.regex(last, /source → scale → check\s+\d+\.\d/);
  t.regex(last, /xpus busy: main \d+%/);
  t.regex(last, /cpu load: cpu0 \d+%|cpu load: \/proc\/stat not readable/);
  t.regex(last, /drops 0 {2}source overruns \d+ {2}deadline misses \(last second\) \d+/);
});
