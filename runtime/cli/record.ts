// `xauto record merge OUT.mcap IN.mcap...`: several recordings (a multi-host launch's
// FILE.<process>.mcap, copied together) merged into one file ordered by log time.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { mergeRecordings, type MergeStats } from '../record/merge.js';
import { RecordingError } from '../record/reader.js';
import { UserError } from './errors.js';

export interface MergeArgs {
  out: string;
  inputs: string[];
}

export async function runMerge(a: MergeArgs, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<MergeStats> {
  if (!a.inputs?.length) throw new UserError('xauto record merge: give the recordings to merge after the output file');
  try {
    const s = await mergeRecordings(a.inputs, a.out);
    log(`xauto record: ${s.file}: ${s.messages} messages on ${s.topics} topics from ${s.inputs} recordings, in log-time order`);
    return s;
  } catch (e) {
    if (e instanceof RecordingError) throw new UserError(e.message);
    throw e;
  }
}

const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <out> <inputs..>',
  describe: 'Merge MCAP recordings into one, ordered by log time',
  builder: (y: Argv) =>
    y
      .positional('out', { type: 'string', demandOption: true, describe: 'the merged MCAP file (may be one of the inputs)' })
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'MCAP files to merge' }) as unknown as Argv<MergeArgs>,
  handler: async (a: ArgumentsCamelCase<MergeArgs>) => {
    await runMerge(a);
  },
};

export const recordCommand: CommandModule = {
  command: 'record <command>',
  describe: 'Work with MCAP recordings (merge)',
  builder: (y: Argv) => y.command(mergeCommand).demandCommand(1),
  handler: () => {},
};
