// `xauto launch FILE`: launch description -> graph -> plan -> executor (+ child processes) -> report.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProcesses } from '../exec/processes.js';
import { GraphError, type Graph } from '../graph/index.js';
import { LaunchError, type LaunchDescription } from '../launch/types.js';
import { PlanFileError } from '../schedule/index.js';
import { chromeTrace } from '../trace/chrome.js';
import { renderSummary, type RunSummary } from '../trace/report.js';
import { XautoError } from '../util/errors.js';
import { discoverXpus } from '../xpu/discover.js';
import { UserError } from './errors.js';
import { mergeProcessRuns, pathGraph, runPlan, type PlanRun, type RunControl } from './session.js';
import { graphOf, loadDescription } from './pipeline.js';

export interface LaunchArgs {
  file: string;
  launchArgs: string[];
  frames?: number;
  duration?: number;
  realtime: boolean;
  print: boolean;
  summaryJson?: string;
  trace?: string;
  plan: string;
  workers?: number;
  allowCommand: boolean;
  xnodes: string[];
  reprofile: boolean;
  /** Internal: run only this process of a multi-process launch. */
  process?: string;
  /** MCAP recording of the run's topics (`--topics` narrows them). */
  record?: string;
  topics?: string[];
  /** Feed the graph from an MCAP recording instead of its sources. */
  replay?: string;
  /** Internal: a child process writes its trace and summary here for the top process to merge. */
  traceDump?: string;
}

/** The JSON `--print` shows: the resolved description, as ros2 launch would start it. */
export function printable(desc: LaunchDescription): unknown {
  return {
    nodes: desc.processes.map((p) => ({
      name: p.name ?? null,
      namespace: p.namespace,
      pkg: p.pkg ?? null,
      exec: p.exec ?? null,
      ...(p.kind === 'executable' ? { cmd: p.cmd ?? [] } : {}),
      args: p.args,
      params: p.params,
      ...(p.paramFiles.length ? { param_files: p.paramFiles } : {}),
      remaps: p.remaps,
      env: p.env,
    })),
    xnodes: desc.xnodes.map((x) => ({
      name: x.name,
      namespace: x.namespace,
      type: x.type,
      inputs: x.inputs,
      outputs: x.outputs,
      params: x.params,
      impls: x.impls,
      priority: x.priority,
      module: x.module,
      ...(x.process !== 'main' ? { process: x.process } : {}),
      ...(x.ros2.length ? { ros2: x.ros2 } : {}),
    })),
    xpus: desc.xpus.map(({ pos: _pos, ...x }) => ({ ...x, simulated: true })),
  };
}

export async function runLaunch(a: LaunchArgs): Promise<RunSummary | undefined> {
  const desc = loadDescription(a.file, a.launchArgs, a.allowCommand);
  if (a.print) {
    process.stdout.write(JSON.stringify(printable(desc), null, 2) + '\n');
    return undefined;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  const graph = await graphOf(desc, a.xnodes);
  const xpus = await discoverXpus({ workers: a.workers });
  const simulated = desc.xpus.map((x) => x.id);
  if (simulated.length) log(`xauto: declared XPUs ${simulated.join(', ')} are simulated; this run uses only real XPUs`);

  // Stages placed in other processes (`process:` in the launch file) run in child xauto
  // processes; the top one runs `main` and starts the rest.
  const names = [...new Set(graph.stages.map((s) => s.process))];
  const mine = a.process ?? 'main';
  if (a.process && !names.includes(a.process)) throw new UserError(`--process ${a.process}: no xnode is placed in it; expected one of ${names.join(', ')}`);
  const control: RunControl = { stopped: false };
  // The top process of a multi-process launch merges its children's traces into one report.
  const dumpDir = !a.process && names.length > 1 ? mkdtempSync(join(tmpdir(), 'xauto-processes-')) : undefined;
  const dumps = names.filter((n) => n !== 'main').map((n) => ({ name: n, file: join(dumpDir ?? '', `${n.replace(/\W/g, '_')}.json`) }));
  const children = a.process ? [] : dumps.map((d) => startChildProcess(a, d.name, () => control.stop?.(), d.file));
  let topRun: PlanRun | undefined;
  const top = !a.process;
  const processes = top && desc.processes.length ? startProcesses(desc.processes, { log: (l: string) => process.stdout.write(l + '\n') }) : undefined;
  let summary: RunSummary | undefined;
  try {
    if (graph.stages.some((s) => s.process === mine)) {
      const local = names.length > 1 ? new Set(graph.stages.filter((s) => s.process === mine).map((s) => s.index)) : undefined;
      const stopChildren = () => children.forEach((c) => c.kill('SIGINT'));
      process.once('SIGINT', stopChildren);
      summary = await runGraph(desc, graph, a, xpus, log, local, control, dumpDir ? (r) => (topRun = r) : undefined);
      process.off('SIGINT', stopChildren);
    } else if (processes) {
      const stop = () => void processes.stop();
      process.once('SIGINT', stop);
      await processes.done;
      process.off('SIGINT', stop);
    }
    for (const c of children) {
      const code = await new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (x) => r(x))));
      if (code !== 0) {
        if (topRun) writeOutputs(topRun, graph, a, xpus.map((x) => x.id), log, new Set(graph.stages.filter((s) => s.process === mine).map((s) => s.index)));
        throw new XautoError(`process '${c.spawnargs[c.spawnargs.indexOf('--process') + 1]}' exited with code ${code}`);
      }
    }
    if (topRun) {
      const merged = mergeProcessRuns(graph, topRun, xpus, dumps);
      if (merged.missing.length) log(`xauto: no trace from process ${merged.missing.join(', ')}: the report covers the rest`);
      log(`xauto: one report for processes ${names.join(', ')}`);
      writeOutputs(merged.run, graph, a, merged.xpuNames, log);
      summary = merged.run.summary;
    }
  } finally {
    if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
    await processes?.stop();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  }
  return summary;
}

/** Starts one process of a multi-process launch: the same launch, restricted with --process. */
function startChildProcess(a: LaunchArgs, name: string, onFailure: () => void, traceDump: string): ChildProcess {
  // The same entry as this process (built CLI, or sources through tsx).
  const args = [...process.execArgv, process.argv[1]!, 'launch', a.file, ...a.launchArgs, '--process', name, '--plan', a.plan];
  if (a.frames !== undefined) args.push('--frames', String(a.frames));
  if (a.duration !== undefined) args.push('--duration', String(a.duration));
  if (a.realtime) args.push('--realtime');
  if (a.workers !== undefined) args.push('--workers', String(a.workers));
  if (a.allowCommand) args.push('--allow-command');
  for (const x of a.xnodes) args.push('--xnodes', x);
  if (a.summaryJson) args.push('--summary-json', a.summaryJson.replace(/(\.json)?$/, `.${name}.json`));
  args.push('--trace-dump', traceDump);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream) =>
    createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`[${name}] ${line}\n`));
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  child.once('exit', (code) => {
    if (code !== 0) onFailure(); // its frames will not come: stop waiting for them
  });
  return child;
}


async function runGraph(
  desc: LaunchDescription,
  graph: Graph,
  a: LaunchArgs,
  xpus: Awaited<ReturnType<typeof discoverXpus>>,
  log: (line: string) => void,
  local?: Set<number>,
  control: RunControl = { stopped: false },
  /** Set for the top process of a multi-process launch: it reports once the children's traces are in. */
  defer?: (run: PlanRun) => void,
): Promise<RunSummary | undefined> {
  const onSigint = () => {
    control.stopped = true;
    control.stop?.();
  };
  process.once('SIGINT', onSigint);
  let run: PlanRun | undefined;
  try {
    run = await runPlan(desc, graph, xpus, { ...a, spec: a.plan, local, processName: a.process, log, control });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (!run) return undefined;
  if (defer) defer(run);
  else writeOutputs(run, graph, a, xpus.map((x) => x.id), log, local);
  return run.summary;
}

/** The run's table, and its --summary-json and --trace files. */
function writeOutputs(run: PlanRun, graph: Graph, a: LaunchArgs, xpuNames: string[], log: (line: string) => void, local?: Set<number>): void {
  const { summary, tracer } = run;
  process.stdout.write(renderSummary(summary) + '\n');
  if (a.summaryJson) writeFileSync(a.summaryJson, JSON.stringify(summary, null, 2) + '\n');
  if (a.trace) {
    writeFileSync(a.trace, JSON.stringify(chromeTrace(tracer, graph.stages.map((s) => s.name), xpuNames, pathGraph(graph, local))));
    log(`xauto: trace written to ${a.trace} (open it in https://ui.perfetto.dev or chrome://tracing)`);
  }
}

export const launchCommand: CommandModule<object, LaunchArgs> = {
  command: 'launch <file> [launchArgs..]',
  describe: 'Run a launch file (name:=value sets launch arguments)',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'launch file (.launch.yaml or .launch.xml)' })
      .positional('launchArgs', { type: 'string', array: true, default: [], describe: 'launch arguments, name:=value' })
      .option('frames', { type: 'number', describe: 'frames per source, as fast as the pipeline takes them' })
      .option('duration', { type: 'number', describe: 'run for S seconds at the sources\' rates (default 10 without --frames)' })
      .option('realtime', { type: 'boolean', default: false, describe: 'with --frames: keep the sources\' rates' })
      .option('print', { type: 'boolean', default: false, describe: 'print the resolved description as JSON and start nothing' })
      .option('summary-json', { type: 'string', describe: 'write the run summary as JSON to this path' })
      .option('trace', { type: 'string', describe: 'write a Chrome/Perfetto trace (a track per XPU lane, flow arrows per frame) to this path' })
      .option('plan', { type: 'string', default: 'xauto', describe: 'xauto | module | default | PLAN.json' })
      .option('workers', { type: 'number', describe: 'worker-pool size (default: cores - 1)' })
      .option('allow-command', { type: 'boolean', default: false, describe: 'allow $(command ...) substitutions' })
      .option('xnodes', { type: 'string', array: true, default: [], describe: 'extra modules exporting `xnodes`' })
      .option('reprofile', { type: 'boolean', default: false, describe: 'measure profiles again instead of using the cache' })
      .option('process', { type: 'string', describe: 'run only the xnodes placed in this process (one host of a multi-host launch)' })
      .option('record', { type: 'string', describe: 'record the topics into this MCAP file (ros2msg schemas, CDR; opens in Foxglove)' })
      .option('topics', { type: 'string', array: true, describe: 'with --record: only these topics' })
      .option('replay', { type: 'string', describe: 'feed the graph from this MCAP recording in place of its sources' })
      .option('trace-dump', { type: 'string', hidden: true, describe: 'internal: where a child process leaves its trace for the top process' }) as unknown as Argv<LaunchArgs>,
  handler: async (a: ArgumentsCamelCase<LaunchArgs>) => {
    await runLaunch(a);
  },
};

/** Turns user errors into one positioned line; anything else is a bug and keeps its stack. */
export function describeError(e: unknown): { message: string; user: boolean } {
  if (e instanceof LaunchError || e instanceof GraphError || e instanceof UserError || e instanceof PlanFileError) return { message: e.message, user: true };
  if (e instanceof XautoError) return { message: e.message, user: false };
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT') return { message: e.message, user: true };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e), user: false };
}
