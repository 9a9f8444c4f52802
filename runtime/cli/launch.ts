// `xauto launch FILE`: launch description -> graph -> plan -> executor (+ child processes) -> report.
// Over 400 lines: one start-up and shut-down sequence (watchdog, restore, processes, run, merge,
// exit code) whose order matters and reads best in one place; the pieces it calls live beside it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { dieWithParent, memoryWatchdog, orphaned } from '../exec/lifeline.js';
import { startProcesses, type ProcessGroup } from '../exec/processes.js';
import { INSTANCE_ENV, KEY_ENV } from '../exec/remote-frame.js';
import { GraphError, type Graph } from '../graph/index.js';
import { LaunchError, type LaunchDescription } from '../launch/types.js';
import { mergeRecordings } from '../record/merge.js';
import { PlanFileError } from '../schedule/index.js';
import { chromeTrace } from '../trace/chrome.js';
import { renderSummary, type RunSummary } from '../trace/report.js';
import { XautoError } from '../util/errors.js';
import { discoverXpus } from '../xpu/discover.js';
import { STAGE_FAILED_EXIT, StageFailedError, UserError } from './errors.js';
import { howEnded, onStopSignals, signalExitCode, startChild, stopWhileLoading, type ChildExit, type LaunchChild, type StopSignal } from './launch-children.js';
import { mergeProcessRuns, pathGraph, runPlan, type PlanRun, type RunControl } from './session.js';
import { graphOf, loadDescription, showArgs } from './pipeline.js';
import { printable, toJson } from './print.js';
import { checkCheckpointArgs, resolveRestore, RunCheckpoints, type CheckpointPart, type WarmModelsPolicy } from './checkpointing.js';
import { partDir } from '../exec/checkpoint-epochs.js';
import { claimPartDir } from './part-dir.js';
import { planMigration } from './migrating.js';
import { MigrationError, type MigrationSpec } from '../exec/migrate.js';

stopWhileLoading();

export interface LaunchArgs {
  file: string;
  launchArgs: string[];
  frames?: number;
  duration?: number;
  realtime: boolean;
  print: boolean;
  showArgs?: boolean;
  summaryJson?: string;
  trace?: string;
  plan: string;
  workers?: number;
  allowCommand: boolean;
  xnodes: string[];
  reprofile: boolean;
  /** Internal: run only this process of a multi-process launch. */
  process?: string;
  /** RSS budget (MB) for the memory watchdog. */
  maxRss?: number;
  /** MCAP recording of the run's topics (`--topics` narrows them). */
  record?: string;
  topics?: string[];
  /** Feed the graph from an MCAP recording instead of its sources. */
  replay?: string;
  /** When every implementation of a stage has failed: stop the run or go on (default). */
  onStageFailed?: 'stop' | 'continue';
  /** Internal: a child process writes its trace and summary here for the top process to merge. */
  traceDump?: string;
  /** Crash recovery: a checkpoint about every S seconds into --checkpoint-dir; --restore DIR starts from its newest image. */
  checkpointEvery?: number;
  checkpointDir?: string;
  restore?: string;
  /** With checkpoints or --restore: the onnxruntime sessions' optimized models in the image, and when sessions open from them. */
  warmModels?: WarmModelsPolicy;
  /** Live migration: STAGE@WHEN[:PROCESS] moves a running stage, with its state, to another process. */
  migrate?: string;
  /** Internal: this process takes its part of the checkpoints of the launch that started it. */
  checkpointPart?: boolean;
  /** Internal: with --restore, the launch epoch the top process restores from (its part of it). */
  restoreEpoch?: number;
}

export async function runLaunch(a: LaunchArgs): Promise<RunSummary | undefined> {
  if (a.showArgs) {
    process.stdout.write(showArgs(a.file, a.launchArgs, a.allowCommand));
    return undefined;
  }
  const desc = loadDescription(a.file, a.launchArgs, a.allowCommand);
  if (a.print) {
    process.stdout.write(toJson(printable(desc)) + '\n');
    return undefined;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  // One handler for SIGINT and SIGTERM from here on: before the run starts (planning,
  // profiling, starting stages) a stop exits at once with one line; once it runs, it drains
  // and reports. `started` turns true when the run first offers a way to stop it.
  let started = false;
  let stopRun: (() => void) | undefined;
  const control: RunControl = {
    stopped: false,
    get stop() {
      return stopRun;
    },
    set stop(f) {
      if (f) started = true;
      stopRun = f;
    },
  };
  let children: LaunchChild[] = [];
  let processes: ProcessGroup | undefined;
  let interrupted: StopSignal | undefined;
  let dumpDir: string | undefined;
  let planDir: string | undefined;
  /** Why the run was stopped other than by a signal (a process died, memory): exits non-zero. */
  let failure: string | undefined;
  const stopAll = (except?: string): void => {
    control.stopped = true;
    control.stop?.();
    for (const c of children) if (c.name !== except && c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGINT');
    void processes?.stop();
  };
  const abortStartup = (line: string, code: number): never => {
    log(line);
    for (const c of children) c.proc.kill('SIGTERM');
    void processes?.stop();
    process.exit(code);
  };
  const offSignals = onStopSignals((sig) => {
    interrupted = sig;
    if (orphaned()) setTimeout(() => process.exit(signalExitCode(sig)), 5000).unref(); // nobody waits for our report
    if (!started) abortStartup(`xauto: ${sig} during start-up (planning, profiling or starting stages): stopped before the run began`, signalExitCode(sig));
    stopAll();
  }, log);
  if (a.process) {
    dieWithParent((how) => {
      log(`xauto: the launch that started process '${a.process}' is gone (${how}); stopping`);
      process.kill(process.pid, 'SIGTERM');
    });
  }
  const stopWatchdog = memoryWatchdog({
    maxRssBytes: a.maxRss !== undefined ? a.maxRss * 2 ** 20 : undefined,
    onLimit: (why) => {
      failure ??= `stopped by the memory watchdog: ${why}`;
      log(`xauto: memory watchdog: ${why}; stopping the run in order`);
      if (!started) abortStartup(`xauto: ${failure}, before the run began`, 1);
      stopAll();
    },
  });
  try {
    checkCheckpointArgs(a, { processes: 1, migrates: false, topRunsXnodes: true });
    // Before the xnodes load: the image must be of this launch; its scene clock is taken over,
    // and its plan (the states belong to its implementations): no profiling, no planning.
    if (a.restore) {
      const plan = resolveRestore(a, a.restore, log);
      if (plan) {
        planDir = mkdtempSync(join(tmpdir(), 'xauto-restore-'));
        a.plan = join(planDir, 'plan.json');
        writeFileSync(a.plan, JSON.stringify(plan));
        log(`xauto: --restore: running under the image's plan '${String(plan.name)}' (no profiling or planning)`);
      }
    }
    const graph = await graphOf(desc, a.xnodes);
    const xpus = await discoverXpus({ workers: a.workers });
    const simulated = desc.xpus.map((x) => x.id);
    if (simulated.length) log(`xauto: declared XPUs ${simulated.join(', ')} are simulated; this run uses only real XPUs`);

    // Stages placed in other processes (`process:` in the launch file) run in child xauto
    // processes; the top one runs `main` and starts the rest.
    const migration = a.migrate ? planMigration(graph, a.migrate) : undefined;
    // A stage that moves runs in both processes (exec/migrate.ts); its target may be a process of its own.
    const names = [...new Set([...graph.stages.map((s) => s.process), ...(migration ? [migration.to] : [])])];
    const mine = a.process ?? 'main';
    const runsHere = (s: { index: number; process: string }) => s.process === mine || (migration?.to === mine && s.index === migration.stage);
    if (a.process && !names.includes(a.process)) throw new UserError(`--process ${a.process}: no xnode is placed in it; expected one of ${names.join(', ')}`);
    checkCheckpointArgs(a, { processes: names.length, migrates: !!migration, topRunsXnodes: graph.stages.some((s) => s.process === 'main') });
    if (a.restore && !a.process && names.length > 1 && a.restoreEpoch === undefined) {
      throw new UserError(`--restore ${a.restore}: the image is of a launch in one process; this one places xnodes in processes ${names.join(', ')}`);
    }
    if (a.restore && names.length === 1 && a.restoreEpoch !== undefined) {
      throw new UserError(`--restore ${a.restore}: the image is of a launch in several processes; this one runs in one`);
    }
    // Each process of a launch of several takes its part of the checkpoints into its folder.
    const ckDir = a.restore ?? a.checkpointDir;
    const part: CheckpointPart | undefined =
      names.length > 1 && ckDir ? { name: mine, dir: ckDir, others: a.process ? undefined : names.filter((n) => n !== 'main'), restoreEpoch: a.restoreEpoch } : undefined;
    // A process of the run that was killed may still be finishing with its folder.
    if (part && a.process) await claimPartDir(partDir(part.dir, part.name), log);
    if (names.length > 1) claimIdentity(a);
    // The top process of a multi-process launch merges its children's traces into one report.
    dumpDir = !a.process && names.length > 1 ? mkdtempSync(join(tmpdir(), 'xauto-processes-')) : undefined;
    const dumps = names.filter((n) => n !== 'main').map((n) => ({ name: n, file: join(dumpDir ?? '', `${n.replace(/\W/g, '_')}.json`) }));
    let topRun: PlanRun | undefined;
    const onChildExit = (e: ChildExit): void => {
      // A child whose stages failed has reported them in its trace (merged here): not a crash.
      if (e.code === 0 || e.code === STAGE_FAILED_EXIT) return;
      if (interrupted && (e.code === signalExitCode('SIGINT') || e.code === signalExitCode('SIGTERM'))) return;
      const what = `process '${e.name}' [pid ${e.pid}] ${howEnded(e)}`;
      failure ??= what;
      // Its frames will not come: stop waiting for them.
      if (!started) abortStartup(`xauto: ${what} during start-up`, 1);
      log(`xauto: ${what}; stopping the run`);
      stopAll(e.name);
    };
    children = a.process ? [] : dumps.map((d) => startChild(d.name, childArgs(a, d.name, d.file), onChildExit));
    for (const c of children) log(`xauto: started process '${c.name}' [pid ${c.proc.pid}]${a.record ? `; it records its topics to ${recordFileOf(a.record, c.name)}` : ''}`);
    if (!a.process && desc.processes.length) processes = startProcesses(desc.processes, { log: (l: string) => process.stdout.write(l + '\n') });
    let summary: RunSummary | undefined;
    if (graph.stages.some(runsHere)) {
      const local = names.length > 1 ? new Set(graph.stages.filter(runsHere).map((s) => s.index)) : undefined;
      const role = migration?.from === mine ? 'source' : migration?.to === mine ? 'target' : undefined;
      const moving: MigrationSpec | undefined = migration && role ? { ...migration, role } : undefined;
      summary = await runGraph(desc, graph, a, xpus, log, local, control, dumpDir ? (r) => (topRun = r) : undefined, moving, part);
    } else if (processes) {
      started = true;
      await processes.done;
    }
    // The other processes finish their own runs; one that does not is stopped.
    const ends = await settleWithin(children.map((c) => c.exited), 30_000);
    for (const [i, e] of ends.entries()) if (!e) children[i]!.proc.kill('SIGTERM');
    if (a.record && children.length) await mergeProcessRecordings(a.record, children.map((c) => c.name), failure, log);
    if (topRun) {
      if (failure) {
        // A process failed: this process's own report, then the failure.
        writeOutputs(topRun, graph, a, xpus.map((x) => x.id), log, new Set(graph.stages.filter((s) => s.process === mine).map((s) => s.index)));
      } else {
        const merged = mergeProcessRuns(graph, topRun, xpus, dumps);
        if (merged.missing.length) log(`xauto: no trace from process ${merged.missing.join(', ')}: the report covers the rest`);
        log(`xauto: one report for processes ${names.join(', ')}`);
        writeOutputs(merged.run, graph, a, merged.xpuNames, log);
        summary = merged.run.summary;
      }
    }
    if (failure) throw new XautoError(failure);
    if (summary?.failed_stages?.length) throw new StageFailedError(summary.failed_stages);
    if (!summary && interrupted && graph.stages.some(runsHere)) log(`xauto: ${interrupted}: stopped before the measured run; nothing to report`);
    return summary;
  } finally {
    stopWatchdog();
    offSignals();
    if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
    if (planDir) rmSync(planDir, { recursive: true, force: true });
    await processes?.stop();
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
  }
}

/** Waits for each promise up to `ms` in all; undefined for those still pending. */
async function settleWithin<T>(ps: Array<Promise<T>>, ms: number): Promise<Array<T | undefined>> {
  const out: Array<T | undefined> = ps.map(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(ps.map((p, i) => p.then((v) => (out[i] = v)))),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
  return out;
}

/**
 * Gives this launch instance its identity on the wire (inherited by its child processes): a
 * random instance and key for a launch that starts its own processes, so that two launches of
 * one file on one domain never exchange frames; for a process started alone (`--process`, one
 * host of a multi-host launch) without XAUTO_LAUNCH_ID, an instance derived from the file and
 * its arguments, shared by the hosts (set XAUTO_LAUNCH_ID and XAUTO_LAUNCH_KEY to separate or
 * authenticate them).
 */
function claimIdentity(a: LaunchArgs, env: NodeJS.ProcessEnv = process.env): void {
  if (env[INSTANCE_ENV]) return;
  if (a.process) {
    env[INSTANCE_ENV] = createHash('sha256').update([basename(a.file), ...a.launchArgs].join('\u0000')).digest('hex').slice(0, 16);
  } else {
    env[INSTANCE_ENV] = randomBytes(8).toString('hex');
    env[KEY_ENV] ??= randomBytes(32).toString('hex');
  }
}

/**
 * The top process of a multi-process launch makes one recording of its own and its children's
 * (FILE.<process>.mcap each): FILE.mcap, ordered by log time; the pieces go once merged. After a
 * failed run they are kept as they are (a crashed process's file may be incomplete).
 */
async function mergeProcessRecordings(file: string, names: string[], failure: string | undefined, log: (line: string) => void): Promise<void> {
  const pieces = [file, ...names.map((n) => recordFileOf(file, n))].filter((f) => existsSync(f));
  if (failure) {
    log(`xauto: the run failed: recordings kept per process (${pieces.join(', ')}); \`xauto record merge\` joins them`);
    return;
  }
  try {
    const s = await mergeRecordings(pieces, file);
    for (const f of pieces) if (f !== file) rmSync(f, { force: true });
    log(`xauto: recording ${file}: ${s.messages} messages on ${s.topics} topics, the ${pieces.length} processes' recordings merged in log-time order`);
  } catch (e) {
    log(`xauto: recordings kept per process (${pieces.join(', ')}): merging them failed (${(e as Error).message})`);
  }
}

/** Where process `name` of a multi-process launch records its own topics: FILE.<name>.mcap. */
export const recordFileOf = (file: string, name: string) => file.replace(/(\.mcap)?$/, `.${name}.mcap`);

/** The command line of one process of a multi-process launch: the same launch, restricted with --process. */
function childArgs(a: LaunchArgs, name: string, traceDump: string): string[] {
  const args = ['launch', a.file, ...a.launchArgs, '--process', name, '--plan', a.plan];
  if (a.frames !== undefined) args.push('--frames', String(a.frames));
  if (a.duration !== undefined) args.push('--duration', String(a.duration));
  if (a.realtime) args.push('--realtime');
  if (a.workers !== undefined) args.push('--workers', String(a.workers));
  if (a.allowCommand) args.push('--allow-command');
  if (a.maxRss !== undefined) args.push('--max-rss', String(a.maxRss));
  if (a.onStageFailed) args.push('--on-stage-failed', a.onStageFailed);
  for (const x of a.xnodes) args.push('--xnodes', x);
  if (a.migrate) args.push('--migrate', a.migrate);
  // Its part of the launch's checkpoints, or of the launch epoch restored.
  if (a.checkpointEvery !== undefined) args.push('--checkpoint-every', String(a.checkpointEvery));
  if (a.checkpointDir) args.push('--checkpoint-dir', a.checkpointDir);
  if (a.restore) args.push('--restore', a.restore, '--restore-epoch', String(a.restoreEpoch));
  if (a.checkpointEvery !== undefined || a.restore) args.push('--checkpoint-part', '--warm-models', a.warmModels ?? 'auto');
  // Each process replays its own sources from the recording (the top one may hold none).
  if (a.replay) args.push('--replay', a.replay);
  if (a.summaryJson) args.push('--summary-json', a.summaryJson.replace(/(\.json)?$/, `.${name}.json`));
  if (a.record) {
    args.push('--record', recordFileOf(a.record, name));
    if (a.topics?.length) args.push('--topics', ...a.topics);
  }
  args.push('--trace-dump', traceDump);
  return args;
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
  migration?: MigrationSpec,
  part?: CheckpointPart,
): Promise<RunSummary | undefined> {
  const checkpoints = RunCheckpoints.of(a, a.file, a.launchArgs, log, part);
  const run: PlanRun | undefined = await runPlan(desc, graph, xpus, { ...a, spec: a.plan, local, processName: a.process, log, control, checkpoints, migration });
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
      .option('show-args', { alias: 's', type: 'boolean', default: false, describe: 'list the declared launch arguments (defaults, descriptions, choices) and start nothing' })
      .option('summary-json', { type: 'string', describe: 'write the run summary as JSON to this path' })
      .option('trace', { type: 'string', describe: 'write a Chrome/Perfetto trace (a track per XPU lane, flow arrows per frame) to this path' })
      .option('plan', { type: 'string', default: 'xauto', describe: 'xauto | module | module-ipc | module-ipc-mt (composable-node baselines, single-/multi-threaded container) | default | PLAN.json' })
      .option('workers', { type: 'number', describe: 'worker-pool size (default: cores - 1)' })
      .option('allow-command', { type: 'boolean', default: false, describe: 'allow $(command ...) substitutions' })
      .option('xnodes', { type: 'string', array: true, nargs: 1, default: [], describe: 'extra module exporting `xnodes` (repeat for more)' })
      .option('reprofile', { type: 'boolean', default: false, describe: 'measure profiles again instead of using the cache' })
      .option('max-rss', { type: 'number', describe: 'memory watchdog: stop the run in order when resident memory passes this many MB (default 90% of the memory limit)' })
      .option('on-stage-failed', {
        choices: ['stop', 'continue'] as const,
        default: 'continue' as const,
        describe: `when every implementation of a stage has failed (no fallback left): stop the run, or go on without it; either way the stage is marked failed in the report and the launch exits ${STAGE_FAILED_EXIT}`,
      })
      .option('process', { type: 'string', describe: 'run only the xnodes placed in this process (one host of a multi-host launch)' })
      .option('record', { type: 'string', describe: 'record the topics into this MCAP file (ros2msg schemas, CDR; opens in Foxglove)' })
      .option('topics', { type: 'string', array: true, describe: 'with --record: only these topics' })
      .option('replay', { type: 'string', describe: 'feed the graph from this MCAP recording in place of its sources' })
      .option('checkpoint-every', { type: 'number', describe: 'crash recovery: checkpoint the running launch about every S seconds, at a frame boundary (stateful xnodes\' host and device state), into --checkpoint-dir' })
      .option('checkpoint-dir', { type: 'string', describe: 'with --checkpoint-every: the image directory (only committed images are ever restored)' })
      .option('restore', { type: 'string', describe: 'start from the newest committed checkpoint in DIR (after a crash): states restored, sources go on with the next frame' })
      .option('warm-models', {
        choices: ['auto', 'always', 'never'] as const,
        default: 'auto' as const,
        describe:
          "with --checkpoint-every: keep each onnxruntime session's optimized model (and a first run's inputs and outputs, to check it) in the image; with --restore: open a session from it when that was measured to pay when the image was taken (auto), always, or never (the source models, as a cold start)",
      })
      .option('migrate', {
        type: 'string',
        describe: "live migration: STAGE@WHEN[:PROCESS] moves a running stage with its state to another process of the launch (WHEN: seconds, or fN for frame N; a new PROCESS name starts one for it); host and device state move; messages for it meanwhile are queued and delivered in order",
      })
      .option('trace-dump', { type: 'string', hidden: true, describe: 'internal: where a child process leaves its trace for the top process' })
      .option('checkpoint-part', { type: 'boolean', hidden: true, describe: 'internal: this process takes its part of the checkpoints of the launch that started it' })
      .option('restore-epoch', { type: 'number', hidden: true, describe: 'internal: with --restore, the launch epoch the top process restores from' })
      .epilog(
        `Exit codes: 0 the run completed; 1 it failed (a process died, the memory watchdog stopped it); 2 bad input (launch file, options, plan file); ` +
          `${STAGE_FAILED_EXIT} the run ended with a stage every implementation of which failed (no fallback left; named in the report); 130/143 stopped by SIGINT/SIGTERM during start-up.`,
      ) as unknown as Argv<LaunchArgs>,
  handler: async (a: ArgumentsCamelCase<LaunchArgs>) => {
    await runLaunch(a);
  },
};

/** Turns user errors into one positioned line; anything else is a bug and keeps its stack. */
export function describeError(e: unknown): { message: string; user: boolean } {
  if (e instanceof LaunchError || e instanceof GraphError || e instanceof UserError || e instanceof PlanFileError || e instanceof MigrationError) return { message: e.message, user: true };
  if (e instanceof XautoError) return { message: e.message, user: false };
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT') return { message: e.message, user: true };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e), user: false };
}
